/**
 * The upload-path benchmark: coordinator CPU per accepted upload through the real HTTP path, beside the cryptographic
 * floor of the same envelope measured in the same run.
 *
 * The coordinator runs as its own process (the `twinfed coordinator start` CLI on 127.0.0.1, durable SQLite store on
 * disk), so its CPU time is read from `/proc/<pid>/stat` and contains none of the sites' work: the simulated sites
 * (real enrollment, `CoordinatorClient` with signed requests, `sealUpdate` envelopes) run in this process. Only the
 * upload bursts are counted (from just before a round's first upload to its last acknowledgement, which comes after
 * the round closed and published: the closing upload waits for it), so the per-round `listRounds` look-up between
 * bursts is left out; closing, aggregating and publishing each round are part of what is measured.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoordinatorClient, enrollmentCredentials } from '@twinfed/site-client';
import { PROTOCOL_VERSION, layoutOf, loadIdentity, sealUpdate, type PlanInput, type WeightSet } from '@twinfed/shared';
import { repoRoot } from '../support/paths';
import { stop } from '../support/processes';
import { cpuOf, localOperator, startLocalCoordinator, tinyPlan } from '../load/load-run';
import { cryptoFloorMs } from './crypto-floor';
import { loadAverage, machineMeta, toMarkdown, writeResults, type BenchTable } from './report';

/** What one run measured. */
interface UploadPathResult {
  label: string;
  date: string;
  sites: number;
  rounds: number;
  /** Uploads acknowledged as accepted (should be sites × rounds). */
  uploads: number;
  parameters: number;
  envelopeBytes: number;
  /** Coordinator CPU (user + system) over the upload bursts, per accepted upload. */
  coordinatorCpuMsPerUpload: number;
  /** Ed25519 verify + X25519 → HKDF → AES-256-GCM open (+ weight decode) of one envelope, in this process. */
  cryptoFloorMsPerUpload: number;
  /** coordinatorCpuMsPerUpload / cryptoFloorMsPerUpload. */
  ratioToFloor: number;
  wallSeconds: number;
  errors: string[];
}

const FEATURES = Array.from({ length: 16 }, (_, i) => `f${i}`);

function plan(o: { sites: number; rounds: number }): PlanInput {
  return tinyPlan({ ...o, name: `upload path ${o.sites} sites`, features: FEATURES, roundDeadlineSeconds: 3600 });
}

/** Runs `fn` over `items` with at most `concurrency` at once. */
async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < items.length; i = next++) await fn(items[i]!);
    }),
  );
}

/**
 * One run: `sites` enrolled sites, `rounds` FedAvg rounds, every site uploading one sealed update per round
 * (`concurrency` uploads in flight). The floor is measured with the coordinator's own key (read from its data directory).
 */
async function runUploadPath(o: {
  sites: number;
  rounds: number;
  label: string;
  concurrency?: number;
  log?: (line: string) => void;
}): Promise<UploadPathResult> {
  const log = o.log ?? (() => undefined);
  const coordinatorDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-upload-coord-'));
  const sitesDir = fs.mkdtempSync(
    path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'twinfed-upload-sites-'),
  );
  const { coordinator, url } = await startLocalCoordinator(coordinatorDir);
  const errors: string[] = [];
  try {
    const { admin, enroll } = await localOperator({ coordinator, url, coordinatorDir });
    const enrollments = await enroll(o.sites, sitesDir);
    log(`upload path: ${o.sites} sites enrolled`);
    const p = plan(o);
    const fed = await admin.createFederation(p);
    const layout = layoutOf({ kind: 'logistic-regression', inputs: FEATURES.length });
    const parameters = layout.reduce((n, l) => n + l.shape.reduce((a, b) => a * b, 1), 0);
    const clients = enrollments.map(
      (e) =>
        new CoordinatorClient({
          baseUrl: url,
          credentials: enrollmentCredentials(e),
          timeoutMs: 120_000,
          retry: { retries: 10, baseMs: 100, maxMs: 2000 },
        }),
    );
    let cpuSeconds = 0;
    let uploads = 0;
    let envelopeBytes = 0;
    let lastEnvelope: Uint8Array | undefined;
    const t0 = Date.now();
    for (let r = 1; r <= o.rounds; r++) {
      let round = (await admin.listRounds(fed.id)).find((x) => x.round === r);
      for (let wait = 0; (!round || (round.state !== 'open' && round.state !== 'collecting')) && wait < 200; wait++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        round = (await admin.listRounds(fed.id)).find((x) => x.round === r);
      }
      if (!round) throw new Error(`round ${r} never opened`);
      const envelopes = enrollments.map((e, i) => {
        const data = Float32Array.from({ length: parameters }, (_, k) => Math.sin(i + k + r) * 0.01);
        const weights: WeightSet = { layout, data };
        const header = {
          protocol: PROTOCOL_VERSION,
          federationId: fed.id,
          round: r,
          siteId: e.state.siteId,
          baseVersionId: round.baseVersionId,
          numExamples: 8,
          metrics: { steps: 1, trainLoss: 0.5 },
          sentAt: new Date().toISOString(),
        };
        return sealUpdate({
          header,
          weights,
          identity: e.identity,
          coordinatorBoxPublicKey: e.coordinator.boxPublicKey,
        });
      });
      envelopeBytes = envelopes[0]!.byteLength;
      lastEnvelope = envelopes[0]!;
      const cpu0 = cpuOf(coordinator.proc.pid!);
      await pool(
        envelopes.map((envelope, i) => ({ envelope, i })),
        o.concurrency ?? 4,
        async ({ envelope, i }) => {
          try {
            const ack = await clients[i]!.uploadUpdate({ federationId: fed.id, round: r, envelope });
            if (ack.status === 'accepted') uploads++;
            else errors.push(`site ${i} round ${r}: ${ack.status}`);
          } catch (e) {
            errors.push(`site ${i} round ${r}: ${e instanceof Error ? e.message : String(e)}`);
          }
        },
      );
      cpuSeconds += cpuOf(coordinator.proc.pid!) - cpu0;
    }
    const wallSeconds = (Date.now() - t0) / 1000;
    const rounds = await admin.listRounds(fed.id);
    const published = rounds.filter((x) => x.state === 'published').length;
    if (published !== o.rounds) errors.push(`${published} of ${o.rounds} rounds published`);
    const coordinatorBoxSecretKey = loadIdentity({ dir: coordinatorDir, name: 'coordinator' }).box.secretKey;
    const floor = cryptoFloorMs({ envelope: lastEnvelope!, enrollment: enrollments[0]!, coordinatorBoxSecretKey });
    const perUpload = (cpuSeconds * 1000) / Math.max(1, uploads);
    return {
      label: o.label,
      date: new Date().toISOString(),
      sites: o.sites,
      rounds: o.rounds,
      uploads,
      parameters,
      envelopeBytes,
      coordinatorCpuMsPerUpload: perUpload,
      cryptoFloorMsPerUpload: floor,
      ratioToFloor: perUpload / floor,
      wallSeconds,
      errors: errors.slice(0, 20),
    };
  } finally {
    await stop(coordinator, 15_000);
    fs.rmSync(coordinatorDir, { recursive: true, force: true });
    fs.rmSync(sitesDir, { recursive: true, force: true });
  }
}

/**
 * Runs the benchmark and records it under `label` in `bench/results/upload-path.{json,md}`, next to the runs of
 * other labels already there (e.g. `before` and `after` a change), so one table compares them.
 */
export async function benchUploadPath(o: {
  sites: number;
  rounds: number;
  label: string;
  log?: (line: string) => void;
}): Promise<UploadPathResult> {
  const result = await runUploadPath(o);
  const file = path.join(repoRoot(), 'bench', 'results', 'upload-path.json');
  const previous = fs.existsSync(file)
    ? ((JSON.parse(fs.readFileSync(file, 'utf8')) as { runs?: Record<string, UploadPathResult> }).runs ?? {})
    : {};
  const runs = { ...previous, [o.label]: result };
  const table: BenchTable = {
    title: 'Upload path: coordinator CPU per accepted upload',
    note:
      'The coordinator runs as its own process (`twinfed coordinator start`, 127.0.0.1, SQLite WAL synchronous FULL on disk); its CPU (user + system, /proc) is summed over ' +
      "the upload bursts only, so the sites' work (sealing, request signing, HTTP client, in another process) is excluded and the close, aggregation and publication of " +
      'each round (paid by its closing upload) are included. Each site sends one signed request with a sealed envelope per round, 4 in flight. ' +
      'Crypto floor: `verifyUpdateSignature` (Ed25519) + `openUpdate` (X25519 → HKDF → AES-256-GCM open, decode) of the same envelope, CPU per call, measured in the same run. ' +
      'Ratio = coordinator CPU / floor.',
    columns: [
      'run',
      'date',
      'sites × rounds',
      'uploads',
      'parameters',
      'envelope bytes',
      'coordinator CPU ms / upload',
      'crypto floor ms',
      'ratio',
      'errors',
    ],
    rows: Object.values(runs).map((r) => [
      r.label,
      r.date.slice(0, 16),
      `${r.sites} × ${r.rounds}`,
      String(r.uploads),
      String(r.parameters),
      String(r.envelopeBytes),
      r.coordinatorCpuMsPerUpload,
      r.cryptoFloorMsPerUpload,
      r.ratioToFloor,
      String(r.errors.length),
    ]),
  };
  const meta = {
    ...machineMeta(),
    loadavg: loadAverage(),
  };
  const md = toMarkdown('twinfed upload path', meta, [table]);
  const out = writeResults('upload-path', { meta, runs }, md);
  o.log?.(`${md}\nwritten: ${out.json}, ${out.md}`);
  return result;
}
