import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAdminClient, type AdminClient } from '@twinfed/coordinator';
import {
  PROTOCOL_VERSION,
  deserializeWeights,
  layoutOf,
  loadIdentity,
  sealUpdate,
  type PlanInput,
  type RoundView,
} from '@twinfed/shared';
import type { Enrollment } from '@twinfed/site-client';
import { cryptoFloorMs } from '../bench/crypto-floor';
import { coordinatorCli } from '../support/paths';
import { freePort } from '../support/net';
import { startNode, stop, type Child } from '../support/processes';
import { countingFetch } from './request-counter';
import { siteSlices } from './site-slices';
import { LOAD_FEATURES, enrollSwarm, runSwarm } from './swarm';
import { runSwarmProcesses } from './swarm-processes';
import { readOperatorToken } from '../support/operator-token';

/** Options of {@link runLoad}. */
interface LoadOptions {
  sites: number;
  rounds: number;
  /** Secure aggregation (the plan's default graph: SecAgg+'s sparse one where it pays off): every site masks. */
  secure?: boolean;
  /** The model (default: logistic regression over {@link LOAD_FEATURES}) and the features its input takes. */
  model?: { model: PlanInput['model']; features: string[] };
  /**
   * Every `dropEvery`-th site (indices dropEvery − 1, 2·dropEvery − 1, …) drops out after masking in every round: it
   * shares its keys (secure), trains and seals, but its upload reaches the coordinator only after the round closed.
   * The plan then closes the round at the others (`minSites` = the rest, `closeAt: 'quorum'`).
   */
  dropEvery?: number;
  /** Where the coordinator keeps its database (a real disk: its fsyncs are part of what is measured). */
  coordinatorDir?: string;
  /** Where the simulated sites keep their keys and journals (tmpfs when available: sites are not measured). */
  sitesDir?: string;
  /**
   * How many processes simulate the sites, each a contiguous slice of them (default: one per core); 1 runs them all
   * in this process. Every slice keeps at least `dropEvery` sites (a dropping site's upload is released by another
   * site of its process).
   */
  siteProcesses?: number;
  /** When set, the coordinator runs under `node --cpu-prof` and writes its profile into this directory. */
  profileDir?: string;
  /**
   * When set, every process simulating the sites runs under `node --cpu-prof` and writes its profile into this
   * directory (needs site processes: `siteProcesses` ≠ 1).
   */
  siteProfileDir?: string;
  /**
   * Every simulated site connects from 127.0.0.1, as the load runs did before 2026-12-08; default: each from its own
   * loopback address (see `siteLoopbackAddress`), as real sites do.
   */
  sharedAddress?: boolean;
  log?: (line: string) => void;
}

/** What a load run measured. */
export interface LoadResult {
  sites: number;
  rounds: number;
  /** Open → published, per round, seconds. */
  roundSeconds: number[];
  p50: number;
  p95: number;
  enrollSeconds: number;
  federationSeconds: number;
  uploads: number;
  evaluations: number;
  errors: string[];
  roundsPublished: number;
  everyRoundHadEverySite: boolean;
  /** Uploads the coordinator refused with 503 OVERLOADED (retried by the sites after Retry-After). */
  overloaded: number;
  coordinatorPeakRssMiB: number;
  coordinatorRssMiB: number;
  swarmRssMiB: number;
  /** CPU seconds used during the federation by the coordinator and by the processes simulating the sites (summed). */
  coordinatorCpuSeconds: number;
  swarmCpuSeconds: number;
  /** Verify + key agreement + open of one of this run's envelopes, CPU ms per upload, measured after the run. */
  cryptoFloorMsPerUpload: number;
  /** The weights of every published version and the round of the version it started from, by round. */
  versionWeights: Map<number, { baseRound: number; weights: Float32Array }>;
  /** Sites that dropped out after masking, per round. */
  droppedPerRound: number;
  /** The sites' signed HTTP requests during the federation, by method and route of the contract (every attempt). */
  requests: Record<string, number>;
  /** Of those, the attempts answered other than 2xx (`<label> <status>`) or not at all (`<label> none`). */
  failedRequests: Record<string, number>;
  /** The body bytes of the 2xx answers to those requests, by route. */
  answerBytes: Record<string, number>;
  /** The federation (from its creation to the last site's end) on the monotonic clock a coordinator profile uses, µs. */
  federationWindowUs: { fromUs: number; toUs: number };
  /** Processes that simulated the sites (0: this one). */
  siteProcesses: number;
  /** Where the sites connected from: each from its own loopback address, or all from 127.0.0.1. */
  siteAddresses: SiteAddresses;
  /** Socket.io connections the sites made, and their attempts that failed (refused upgrades among them). */
  socketConnects: number;
  socketConnectErrors: number;
}

/** Where a load run's simulated sites connected from. */
export type SiteAddresses = 'one per site' | 'shared 127.0.0.1';

/** `twinfed coordinator start` as a child process on a free port of 127.0.0.1, with its URL (not yet listening). */
export async function startLocalCoordinator(
  coordinatorDir: string,
  nodeArgs: string[] = [],
): Promise<{ coordinator: Child; url: string }> {
  const port = await freePort();
  const coordinator = startNode({
    name: 'coordinator',
    nodeArgs,
    script: coordinatorCli(),
    args: ['--json', '--data-dir', coordinatorDir, 'coordinator', 'start', '--port', String(port)],
    env: { TWINFED_LOG_LEVEL: 'warn' },
  });
  return { coordinator, url: `http://127.0.0.1:${port}` };
}

/**
 * Once a coordinator from {@link startLocalCoordinator} listens: its operator (token and admin client) and a way to
 * enroll `count` swarm sites (keys and journals under `dir`), each with a fresh invitation.
 */
export async function localOperator(o: { coordinator: Child; url: string; coordinatorDir: string }): Promise<{
  token: string;
  admin: AdminClient;
  enroll: (count: number, dir: string) => Promise<Enrollment[]>;
}> {
  await o.coordinator.waitForLine(/"url"\s*:/, 30_000);
  const token = readOperatorToken(o.coordinatorDir);
  const admin = createAdminClient({ baseUrl: o.url, token, timeoutMs: 120_000 });
  const enroll = (count: number, dir: string): Promise<Enrollment[]> =>
    enrollSwarm({
      count,
      dir,
      coordinatorUrl: o.url,
      invite: async (name) => (await admin.createInvitation({ siteName: name })).token,
    });
  return { token, admin, enroll };
}

/** The q-quantile (nearest rank) of `xs`. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** CPU seconds (user + system) a process used so far (Linux); NaN elsewhere. */
export function cpuOf(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** VmHWM and VmRSS of a process, in MiB (Linux); NaN elsewhere. */
function rssOf(pid: number): { peak: number; now: number } {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { peak: kb('VmHWM') / 1024, now: kb('VmRSS') / 1024 };
  } catch {
    return { peak: Number.NaN, now: Number.NaN };
  }
}

/** A one-step FedAvg logistic-regression plan over `features`, for load and upload benchmarks. */
export function tinyPlan(o: {
  name: string;
  features: string[];
  sites: number;
  rounds: number;
  roundDeadlineSeconds: number;
}): PlanInput {
  return {
    name: o.name,
    model: { kind: 'logistic-regression', inputs: o.features.length },
    // A few rows per site (see tinyDataset): below the guardrail's default minimum of training rows.
    data: { features: o.features, minExamplesPerSite: 1 },
    strategy: { name: 'fedavg' },
    training: { steps: 1, batchSize: 4 },
    rounds: o.rounds,
    minSites: o.sites,
    roundDeadlineSeconds: o.roundDeadlineSeconds,
  };
}

/**
 * A sealed update of a logistic regression over `inputs` features (default: the load model's) from `enrollment`, as
 * its runner would send it in round 1 on `baseVersionId` (default: the federation's initial version).
 */
export function sampleEnvelope(
  enrollment: Enrollment,
  federationId: string,
  o: { baseVersionId?: string; inputs?: number } = {},
): Uint8Array {
  const layout = layoutOf({ kind: 'logistic-regression', inputs: o.inputs ?? LOAD_FEATURES.length });
  const size = layout.reduce((n, l) => n + l.shape.reduce((a, b) => a * b, 1), 0);
  return sealUpdate({
    header: {
      protocol: PROTOCOL_VERSION,
      federationId,
      round: 1,
      siteId: enrollment.state.siteId,
      baseVersionId: o.baseVersionId ?? `${federationId}.v0`,
      numExamples: 8,
      metrics: { steps: 1, trainLoss: 0.5 },
      sentAt: new Date().toISOString(),
    },
    weights: { layout, data: Float32Array.from({ length: size }, (_, k) => Math.sin(k) * 0.01) },
    identity: enrollment.identity,
    coordinatorBoxPublicKey: enrollment.coordinator.boxPublicKey,
  });
}

/** How many of `sites` drop out with {@link LoadOptions.dropEvery}. */
const droppedSites = (sites: number, dropEvery?: number): number => (dropEvery ? Math.floor(sites / dropEvery) : 0);

function plan(o: LoadOptions): PlanInput {
  const features = o.model?.features ?? LOAD_FEATURES;
  const p = tinyPlan({ ...o, name: `load ${o.sites} sites`, features, roundDeadlineSeconds: 600 });
  const dropped = droppedSites(o.sites, o.dropEvery);
  return {
    ...p,
    ...(o.model ? { model: o.model.model } : {}),
    ...(dropped > 0 ? { minSites: o.sites - dropped, closeAt: 'quorum' as const } : {}),
    ...(o.secure ? { privacy: { secureAggregation: true } } : {}),
  };
}

/**
 * A coordinator process on 127.0.0.1 and `sites` simulated sites (real enrollment, authenticated HTTP, socket.io, sealed
 * uploads, journals), each connecting from its own loopback address unless `sharedAddress`, for `rounds` rounds;
 * returns latency, memory and error counts.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const log = o.log ?? (() => undefined);
  const coordinatorDir = o.coordinatorDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-load-coord-'));
  const sitesDir =
    o.sitesDir ??
    fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'twinfed-load-sites-'));
  const { coordinator, url } = await startLocalCoordinator(
    coordinatorDir,
    o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : [],
  );
  try {
    const { token, admin, enroll } = await localOperator({ coordinator, url, coordinatorDir });
    const t0 = Date.now();
    const enrollments = await enroll(o.sites, sitesDir);
    const enrollSeconds = (Date.now() - t0) / 1000;
    log(`enrolled ${o.sites} sites in ${enrollSeconds.toFixed(1)} s`);
    const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
    const fromUs = monotonicUs();
    const fed = await admin.createFederation(plan(o));
    const t1 = Date.now();
    const cpu0 = { coordinator: cpuOf(coordinator.proc.pid!), swarm: process.cpuUsage() };
    const slices = siteSlices(o.sites, o.siteProcesses ?? os.availableParallelism(), o.dropEvery ?? 1);
    log(`simulating the sites in ${slices.length} process${slices.length > 1 ? 'es' : ''}`);
    if (o.siteProfileDir && slices.length < 2)
      throw new Error('profiling the sites needs them in processes of their own (siteProcesses ≠ 1, two cores)');
    const swarm = await (async () => {
      if (slices.length > 1)
        return runSwarmProcesses({
          slices,
          dir: sitesDir,
          federationId: fed.id,
          baseUrl: url,
          ...(o.model ? { features: o.model.features } : {}),
          ...(o.dropEvery ? { dropEvery: o.dropEvery } : {}),
          ...(o.sharedAddress ? {} : { ownAddresses: true }),
          ...(o.siteProfileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${o.siteProfileDir}`] } : {}),
        });
      const counter = countingFetch();
      const outcome = await runSwarm({
        enrollments,
        federationId: fed.id,
        baseUrl: url,
        dir: sitesDir,
        fetch: counter.fetch,
        ...(o.sharedAddress ? {} : { ownAddresses: true }),
        ...(o.model ? { features: o.model.features } : {}),
        ...(o.dropEvery ? { drops: (i: number) => i % o.dropEvery! === o.dropEvery! - 1 } : {}),
      });
      const cpu = process.cpuUsage(cpu0.swarm);
      const rssMiB = process.memoryUsage.rss() / 1024 / 1024;
      return {
        ...outcome,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        rssMiB,
        counts: counter.counts,
        failures: counter.failures,
        bytes: counter.bytes,
      };
    })();
    const federationSeconds = (Date.now() - t1) / 1000;
    const federationWindowUs = { fromUs, toUs: monotonicUs() };
    const coordinatorCpuSeconds = cpuOf(coordinator.proc.pid!) - cpu0.coordinator;
    const rounds: RoundView[] = await admin.listRounds(fed.id);
    const roundSeconds = rounds
      .filter((r) => r.closedAt)
      .map((r) => (Date.parse(r.closedAt!) - Date.parse(r.openedAt)) / 1000);
    const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    const overloaded = Number(/^twinfed_uploads_total\{outcome="overloaded"\} (\d+)/m.exec(metrics)?.[1] ?? Number.NaN);
    if (o.secure) {
      const phase = (name: string, what: 'sum' | 'count') =>
        Number(new RegExp(`^twinfed_secagg_phase_seconds_${what}\\{phase="${name}"\\} (\\S+)`, 'm').exec(metrics)?.[1]);
      const mean = (name: string) => (phase(name, 'sum') / phase(name, 'count')).toFixed(2);
      log(
        `secure aggregation, mean per round: share relay ${mean('share_relay')} s, mask collection ${mean('mask_collection')} s, unmasking ${mean('unmasking')} s`,
      );
    }
    const rss = rssOf(coordinator.proc.pid!);
    const versionWeights = new Map<number, { baseRound: number; weights: Float32Array }>();
    for (const r of rounds.filter((x) => x.state === 'published' && x.versionId))
      versionWeights.set(r.round, {
        baseRound: Number(/\.v(\d+)$/.exec(r.baseVersionId)?.[1] ?? Number.NaN),
        weights: deserializeWeights((await admin.downloadWeights(r.versionId!)).bytes).data,
      });
    const floor = cryptoFloorMs({
      envelope: sampleEnvelope(enrollments[0]!, fed.id),
      enrollment: enrollments[0]!,
      coordinatorBoxSecretKey: loadIdentity({ dir: coordinatorDir, name: 'coordinator' }).box.secretKey,
    });
    log(
      `federation of ${o.rounds} rounds in ${federationSeconds.toFixed(1)} s; rounds ${roundSeconds.map((s) => s.toFixed(2)).join(', ')} s`,
    );
    return {
      sites: o.sites,
      rounds: o.rounds,
      roundSeconds,
      p50: quantile(roundSeconds, 0.5),
      p95: quantile(roundSeconds, 0.95),
      enrollSeconds,
      federationSeconds,
      uploads: swarm.uploads,
      evaluations: swarm.evaluations,
      errors: [
        ...swarm.errors,
        ...swarm.summaries.filter((s) => s.state !== 'completed').map((s) => `a site ended with ${s.state}`),
      ],
      roundsPublished: rounds.filter((r) => r.state === 'published').length,
      everyRoundHadEverySite: rounds.every((r) => r.received === o.sites && r.selectedSiteIds.length === o.sites),
      overloaded,
      coordinatorPeakRssMiB: rss.peak,
      coordinatorRssMiB: rss.now,
      swarmRssMiB: swarm.rssMiB,
      coordinatorCpuSeconds,
      swarmCpuSeconds: swarm.cpuSeconds,
      cryptoFloorMsPerUpload: floor,
      versionWeights,
      droppedPerRound: droppedSites(o.sites, o.dropEvery),
      requests: Object.fromEntries([...swarm.counts].sort(([a], [b]) => a.localeCompare(b))),
      federationWindowUs,
      siteProcesses: slices.length > 1 ? slices.length : 0,
      siteAddresses: o.sharedAddress ? 'shared 127.0.0.1' : 'one per site',
      socketConnects: swarm.socketConnects,
      socketConnectErrors: swarm.socketConnectErrors,
      failedRequests: Object.fromEntries([...swarm.failures].sort(([a], [b]) => a.localeCompare(b))),
      answerBytes: Object.fromEntries([...swarm.bytes].sort(([a], [b]) => a.localeCompare(b))),
    };
  } finally {
    await stop(coordinator, 15_000);
    if (!o.coordinatorDir) fs.rmSync(coordinatorDir, { recursive: true, force: true });
    if (!o.sitesDir) fs.rmSync(sitesDir, { recursive: true, force: true });
  }
}
