/**
 * Wire size per site-round: a coordinator process on 127.0.0.1 and real site runners (this process; signed HTTP,
 * socket.io events, sealed uploads) talking to it through a counting TCP proxy, so every byte is counted from outside
 * as it crossed the connection — request and response heads, signed headers, bodies, event frames. Enrollment goes
 * around the proxy (it is not part of a round). Bytes are split by what the request was for and divided by
 * sites × rounds, against the raw float32 bytes of the model (parameters × 4).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { layoutOf, layoutSize, pathPatterns, type PlanInput } from '@twinfed/shared';
import { stop } from '../support/processes';
import { startCountingProxy, type WireCount } from '../support/counting-proxy';
import { runSwarm } from '../load/swarm';
import { localOperator, startLocalCoordinator, tinyPlan } from '../load/load-run';
import { loadAverage, tablesMarkdown, type BenchTable } from './report';
import { writeScaleSection } from './scale-report';

const FEATURES = Array.from({ length: 16 }, (_, i) => `f${i}`);

/** The three model sizes of issue #14: the heart model's 17 parameters, then about 10k and 100k. */
const MODELS: Array<{ name: string; model: PlanInput['model'] }> = [
  { name: 'logistic regression, 16 inputs (heart)', model: { kind: 'logistic-regression', inputs: 16 } },
  { name: 'MLP 16 → 556', model: { kind: 'mlp', inputs: 16, hidden: [556] } },
  { name: 'MLP 16 → 307 → 307', model: { kind: 'mlp', inputs: 16, hidden: [307, 307] } },
];

/** What a request was for, as charged on the wire. */
type Part = 'upload' | 'download' | 'metadata' | 'events';

/** Names a site's request by the API route it matched (`events` for socket.io), and the part of a round it serves. */
function classifier(): { classify: (method: string, path: string) => string; partOf: (label: string) => Part } {
  const routes = Object.entries(pathPatterns()).map(([name, pattern]) => ({
    name,
    re: new RegExp(`^${pattern.replace(/:[a-zA-Z]+/g, '[^/]+')}$`),
  }));
  const classify = (method: string, p: string): string => {
    if (p.startsWith('/socket.io/')) return 'events';
    const route = routes.find((r) => r.re.test(p));
    return `${method} ${route?.name ?? 'unknown'}`;
  };
  const partOf = (label: string): Part =>
    label === 'events'
      ? 'events'
      : label.endsWith(' updates')
        ? 'upload'
        : label.endsWith(' modelWeights') || label.endsWith(' modelDownload') || label.endsWith(' currentRoundDownload')
          ? 'download'
          : 'metadata';
  return { classify, partOf };
}

/** One model's bytes per site-round. */
interface WireRow {
  model: string;
  params: number;
  sites: number;
  rounds: number;
  /** parameters × 4: the float32 weights themselves. */
  rawWeightBytes: number;
  /** Per site-round, both directions, by part; `total` is their sum. */
  bytes: Record<Part | 'total', number>;
  /** Requests per site-round, by part. */
  requests: Record<Part, number>;
  /** Upload request + response per site-round / rawWeightBytes. */
  uploadOverRaw: number;
  /** Everything per site-round / rawWeightBytes. */
  totalOverRaw: number;
  /** Per route (`METHOD name`): bytes up and down and requests over the whole run. */
  routes: Record<string, WireCount>;
  errors: string[];
}

async function measure(o: {
  name: string;
  model: PlanInput['model'];
  sites: number;
  rounds: number;
}): Promise<WireRow> {
  const coordinatorDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-wire-coord-'));
  const sitesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-wire-sites-'));
  const { coordinator, url } = await startLocalCoordinator(coordinatorDir);
  const { classify, partOf } = classifier();
  const proxy = await startCountingProxy({ target: url, classify });
  try {
    const { admin, enroll } = await localOperator({ coordinator, url, coordinatorDir });
    const enrollments = await enroll(o.sites, sitesDir);
    const plan: PlanInput = {
      ...tinyPlan({
        name: `wire ${o.name.replace(/[^A-Za-z0-9 ._-]/g, '')}`,
        features: FEATURES,
        sites: o.sites,
        rounds: o.rounds,
        roundDeadlineSeconds: 600,
      }),
      model: o.model,
    };
    const fed = await admin.createFederation(plan);
    const swarm = await runSwarm({
      enrollments,
      federationId: fed.id,
      baseUrl: proxy.url,
      dir: sitesDir,
      features: FEATURES,
    });
    const routes = proxy.counts();
    const siteRounds = o.sites * o.rounds;
    const bytes = { upload: 0, download: 0, metadata: 0, events: 0, total: 0 };
    const requests = { upload: 0, download: 0, metadata: 0, events: 0 };
    for (const [label, c] of Object.entries(routes)) {
      const part = partOf(label);
      bytes[part] += (c.up + c.down) / siteRounds;
      bytes.total += (c.up + c.down) / siteRounds;
      requests[part] += c.requests / siteRounds;
    }
    const params = layoutSize(layoutOf(o.model as Parameters<typeof layoutOf>[0]));
    const rawWeightBytes = params * 4;
    const rounds = await admin.listRounds(fed.id);
    const published = rounds.filter((r) => r.state === 'published').length;
    return {
      model: o.name,
      params,
      sites: o.sites,
      rounds: o.rounds,
      rawWeightBytes,
      bytes,
      requests,
      uploadOverRaw: bytes.upload / rawWeightBytes,
      totalOverRaw: bytes.total / rawWeightBytes,
      routes,
      errors: [
        ...swarm.errors,
        ...(published === o.rounds ? [] : [`${published} of ${o.rounds} rounds published`]),
        ...(swarm.uploads === siteRounds ? [] : [`${swarm.uploads} of ${siteRounds} uploads`]),
      ],
    };
  } finally {
    await proxy.close();
    await stop(coordinator, 15_000);
    fs.rmSync(coordinatorDir, { recursive: true, force: true });
    fs.rmSync(sitesDir, { recursive: true, force: true });
  }
}

/**
 * The wire section of issue #14: bytes per site-round at 17, ~10k and ~100k parameters, written to
 * `bench/results/scale.{json,md}` (section `wire`, key `wire`).
 */
export async function wireSection(o: { sites: number; rounds: number; log: (line: string) => void }): Promise<void> {
  const rows: WireRow[] = [];
  for (const m of MODELS) {
    const row = await measure({ ...m, sites: o.sites, rounds: o.rounds });
    o.log(`wire: ${m.name}: ${row.params} parameters, ${row.bytes.total.toFixed(0)} bytes per site-round`);
    rows.push(row);
  }
  const kib = (n: number) => n / 1024;
  const table: BenchTable = {
    title: 'Bytes on the wire per site-round',
    note: `KiB per site-round (both directions, TCP payload counted by a proxy between the site runners and a coordinator process: heads, signed headers, bodies, socket.io frames), ${o.sites} sites × ${o.rounds} rounds of FedAvg each. Upload: the update request (envelope) and its answer. Download: the weights of the round's model (the initial weights, then each published version), with the downloads per site-round in brackets; the current round that brings the latest version along (\`rounds/current/download\`) is charged here whole, its requests (each poll) counted in the brackets. Metadata: every other signed request a site makes (current round, plan, model version, evaluations …). Events: the socket.io push stream. Raw: the float32 weights (parameters × 4).`,
    columns: [
      'model',
      'parameters',
      'raw KiB',
      'upload KiB',
      'download KiB (requests)',
      'metadata KiB (requests)',
      'events KiB',
      'total KiB',
      'upload / raw',
      'total / raw',
    ],
    rows: rows.map((r) => [
      r.model,
      r.params.toLocaleString('en'),
      kib(r.rawWeightBytes),
      kib(r.bytes.upload),
      `${kib(r.bytes.download).toPrecision(3)} (${r.requests.download.toFixed(1)})`,
      `${kib(r.bytes.metadata).toPrecision(3)} (${r.requests.metadata.toFixed(1)})`,
      kib(r.bytes.events),
      kib(r.bytes.total),
      r.uploadOverRaw,
      r.totalOverRaw,
    ]),
  };
  const errors = rows.flatMap((r) => r.errors.map((e) => `${r.model}: ${e}`));
  writeScaleSection({
    name: 'wire',
    markdown: `${tablesMarkdown([table])}\n- errors: ${errors.length === 0 ? 'none' : errors.join('; ')}\n- load average: ${loadAverage()}\n`,
    update: (doc) => {
      doc.wire = rows;
    },
  });
}
