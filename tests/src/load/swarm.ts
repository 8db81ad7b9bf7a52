import fs from 'node:fs';
import path from 'node:path';
import {
  CoordinatorClient,
  EventStream,
  Journal,
  SiteAuditLog,
  SiteAuthenticator,
  SiteRunner,
  enroll,
  enrollmentCredentials,
  loadEnrollment,
  type Enrollment,
  type LocalDataset,
  type ModelOps,
  type RunnerProgress,
  type RunSummary,
} from '@twinfed/site-client';
import { SeededRandom } from '@twinfed/shared';
import { io } from 'socket.io-client';
import { boundToAddress, siteLoopbackAddress } from './site-address';

/** The features of the load test's model (logistic regression over three inputs). */
export const LOAD_FEATURES = ['a', 'b', 'c'];

function split(n: number, d: number, rng: SeededRandom) {
  const x = Float32Array.from({ length: n * d }, () => rng.normal());
  // Both classes at every site whatever the draw (a one-class site is refused by the data guardrails).
  const y = Float32Array.from({ length: n }, (_, i) => i % 2);
  return { x, y, n, d };
}

/** A few synthetic rows: the load test measures the coordinator, not training. */
function tinyDataset(seed: number, features: string[]): LocalDataset {
  const rng = new SeededRandom(seed);
  return { features, train: split(8, features.length, rng), test: split(4, features.length, rng) };
}

/** Model operations without tfjs: "training" moves each weight a seeded step; evaluation reports fixed numbers. */
function lightModelOps(seed: number): ModelOps {
  return {
    async createTrainer(o) {
      const rng = new SeededRandom(seed);
      return {
        stepsPerRound: 1,
        async trainRound(r) {
          return {
            weights: { layout: r.weights.layout, data: r.weights.data.map((w) => 0.9 * w + 0.1 * rng.normal()) },
            numExamples: o.data.n,
            steps: 1,
            meanLoss: 0.5,
          };
        },
        dispose() {},
      };
    },
    async evaluate(o) {
      return { n: o.data.n, accuracy: 0.5, auc: 0.5, loss: 0.69, brier: 0.25 };
    },
  };
}

/** Enrolls `count` sites with the real site-client enrollment (keys and pinned coordinator key in `dir/site-i`). */
export async function enrollSwarm(o: {
  count: number;
  dir: string;
  coordinatorUrl: string;
  invite: (name: string) => Promise<string>;
  concurrency?: number;
}): Promise<Enrollment[]> {
  const out: Enrollment[] = new Array<Enrollment>(o.count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < o.count; i = next++) {
      const dataDir = path.join(o.dir, `site-${i}`);
      const token = await o.invite(`Load site ${String(i).padStart(4, '0')}`);
      await enroll({ coordinatorUrl: o.coordinatorUrl, token, dataDir });
      out[i] = loadEnrollment(dataDir);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 16 }, worker));
  return out;
}

/** What the swarm saw. */
export interface SwarmOutcome {
  summaries: RunSummary[];
  /** Warnings, refusals and rejections (each one an error for the load test). */
  errors: string[];
  uploads: number;
  evaluations: number;
  /** Socket.io connections the sites' event streams made, and their attempts that failed (e.g. refused upgrades). */
  socketConnects: number;
  socketConnectErrors: number;
}

/**
 * Runs one real {@link SiteRunner} per enrollment, all in this process: signed HTTP through
 * {@link CoordinatorClient} (retries honouring Retry-After), a socket.io {@link EventStream} each, a journal
 * each, and light model operations. Resolves when every runner has ended.
 */
export async function runSwarm(o: {
  enrollments: Enrollment[];
  federationId: string;
  baseUrl: string;
  dir: string;
  pollIntervalMs?: number;
  /** The features of every site's synthetic data (default {@link LOAD_FEATURES}); the plan's model must take as many. */
  features?: string[];
  /** The fetch every site's signed HTTP goes through (default: the global one); benchmarks count answers with it. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Sees every progress event of every site (diagnostics). */
  onEvent?: (site: number, event: RunnerProgress) => void;
  /**
   * The sites (by index) that drop out after masking in every round: their upload of round r is held until some site
   * has seen round r end (a later round, a version of r, or the federation's end), then sent — too late. Their
   * 'round closed' skips are not errors.
   */
  drops?: (site: number) => boolean;
  /**
   * The index of the first enrollment among all the run's sites (default 0): a process running a slice of them
   * (swarm-processes) numbers, seeds and places its sites as the whole run does.
   */
  firstSite?: number;
  /**
   * Each site connects from its own loopback address ({@link siteLoopbackAddress} of its index), HTTP and socket.io,
   * as real sites each have theirs; default: every site from the process's address (127.0.0.1), sharing one
   * keep-alive pool.
   */
  ownAddresses?: boolean;
}): Promise<SwarmOutcome> {
  const errors: string[] = [];
  let uploads = 0;
  let evaluations = 0;
  let socketConnects = 0;
  let socketConnectErrors = 0;
  // The latest round some site has seen end, and the held uploads waiting for their round to end.
  let ended = 0;
  const held: Array<{ round: number; release: () => void }> = [];
  const roundEnded = (round: number) => {
    if (round <= ended) return;
    ended = round;
    for (const h of held.splice(0))
      if (h.round <= ended) h.release();
      else held.push(h);
  };
  const UPLOAD = /\/rounds\/(\d+)\/updates$/;
  const dropping =
    (base: (input: string, init: RequestInit) => Promise<Response>) =>
    async (input: string, init: RequestInit): Promise<Response> => {
      const m = init.method === 'POST' ? UPLOAD.exec(new URL(input).pathname) : null;
      const round = m ? Number(m[1]) : 0;
      if (round > ended) await new Promise<void>((release) => held.push({ round, release }));
      return base(input, init);
    };
  const onProgress = (i: number) => (e: RunnerProgress) => {
    o.onEvent?.(i, e);
    if (e.type === 'round' && e.round > 1) roundEnded(e.round - 1);
    else if (e.type === 'evaluated') roundEnded(e.round);
    else if (e.type === 'ended') roundEnded(Number.MAX_SAFE_INTEGER);
    if (e.type === 'skipped' && e.reason === 'round-closed' && o.drops?.(i)) return;
    if (e.type === 'uploaded') uploads++;
    else if (e.type === 'evaluated') evaluations++;
    else if (e.type === 'warning') errors.push(`site ${i}: warning ${e.code ?? ''} ${e.message}`);
    else if (e.type === 'model-rejected') errors.push(`site ${i}: model rejected ${e.code}`);
    else if (e.type === 'skipped' && e.reason !== 'not-selected' && e.reason !== 'already-submitted')
      errors.push(`site ${i}: skipped round ${e.round} (${e.reason})`);
  };
  const first = o.firstSite ?? 0;
  const bindings: Array<ReturnType<typeof boundToAddress>> = [];
  const runners = o.enrollments.map((enrollment, k) => {
    const i = first + k;
    // One authenticator for the site's HTTP and socket: request MACs, and MAC'd handshakes once HTTP has used one.
    const credentials = new SiteAuthenticator(enrollmentCredentials(enrollment));
    const dataDir = path.join(o.dir, `site-${i}`);
    fs.mkdirSync(dataDir, { recursive: true });
    const bound = o.ownAddresses ? boundToAddress(siteLoopbackAddress(i)) : undefined;
    if (bound) bindings.push(bound);
    const base = o.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
    const siteFetch = bound ? bound.fetch(base) : base;
    const connect: NonNullable<ConstructorParameters<typeof EventStream>[0]['connect']> = (url, opts) => {
      const socket = bound ? bound.connect(url, opts) : io(url, opts);
      socket.on('connect', () => socketConnects++);
      socket.on('connect_error', () => socketConnectErrors++);
      return socket;
    };
    return new SiteRunner({
      federationId: o.federationId,
      enrollment,
      api: new CoordinatorClient({
        baseUrl: o.baseUrl,
        credentials,
        timeoutMs: 120_000,
        retry: { retries: 10, baseMs: 250, maxMs: 10_000 },
        fetch: o.drops?.(i) ? dropping(siteFetch) : siteFetch,
      }),
      events: new EventStream({ baseUrl: o.baseUrl, credentials, connect }),
      dataset: tinyDataset(i, o.features ?? LOAD_FEATURES),
      journal: Journal.open(dataDir),
      audit: new SiteAuditLog(dataDir),
      policy: { autoApprove: true }, // a swarm site approves every plan by its policy (recorded in its audit chain)
      modelOps: lightModelOps(i),
      pollIntervalMs: o.pollIntervalMs ?? 15_000,
      onProgress: onProgress(i),
    });
  });
  const summaries = await Promise.all(
    runners.map((r, k) =>
      r.run().catch((e: unknown) => {
        errors.push(`site ${first + k}: ${e instanceof Error ? e.message : String(e)}`);
        return {
          federationId: o.federationId,
          state: 'failed',
          roundsUploaded: [],
          versionsEvaluated: [],
        } satisfies RunSummary;
      }),
    ),
  );
  await Promise.all(bindings.map((b) => b.close()));
  return { summaries, errors, uploads, evaluations, socketConnects, socketConnectErrors };
}
