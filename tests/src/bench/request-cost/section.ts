/**
 * The request-cost benchmark: coordinator CPU per authenticated request on the routes every site calls every round,
 * beside a reference measured in the same run with the same client and the same requests: bare `node:http` answering
 * as many bytes, after reading the body, checking its digest and verifying the request's MAC or Ed25519 signature
 * (reference/main.ts). The difference is what the framework, authentication, admission, store and handler add per
 * request. Requests are MAC'd by default, as sites send them; `auth: 'signature'` measures signed ones.
 *
 * Both servers are processes of their own on 127.0.0.1 and their CPU (user + system) is read from /proc around each
 * route's burst of requests, so the client's signing and parsing (in this process) is not counted. The coordinator is
 * `twinfed coordinator start` with its durable SQLite store on disk. Uploads go to round 1 from every site but one, so
 * the round stays open and no aggregation is paid by them.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
  BINARY_MEDIA_TYPE,
  macRequest,
  siteRequestMacKey,
  signRequest,
  toB64,
  type PlanInput,
  type RequestMacKey,
} from '@twinfed/shared';
import type { Enrollment } from '@twinfed/site-client';
import { stop, startNode, type Child } from '../../support/processes';
import { cpuOf, localOperator, sampleEnvelope, startLocalCoordinator, tinyPlan } from '../../load/load-run';
import { loadAverage, machineMeta, toMarkdown, writeResults, type BenchTable } from '../report';
import { summariseCpuProfileDir, type ProfileSummary } from '../cpu-profile';
import { answerKey } from './answer-key';

/** One route's figures. */
interface RouteCost {
  route: string;
  requests: number;
  /** Coordinator CPU per request, µs. */
  coordinatorUs: number;
  /** Reference CPU per request (bare node:http + digest check + MAC or Ed25519 verification), µs. */
  referenceUs: number;
  /** coordinatorUs − referenceUs. */
  overheadUs: number;
  ratio: number;
  /** Answers other than 2xx (or failures), coordinator and reference together. */
  errors: number;
}

interface Call {
  method: 'GET' | 'POST';
  path: string;
  body?: Uint8Array;
  /** The body's media type (default: the binary type of uploads). */
  type?: string;
  enrollment: Enrollment;
}

/** How the requests are authenticated: an HMAC under the site's request key (what sites send), or an Ed25519 signature. */
type RequestCostAuth = 'mac' | 'signature';

/** The site's request MAC key, derived once per enrollment (as the site's authenticator keeps it). */
const macKeys = new WeakMap<Enrollment, RequestMacKey>();
function macKeyOf(e: Enrollment): RequestMacKey {
  let key = macKeys.get(e);
  if (!key) {
    key =
      siteRequestMacKey({
        siteId: e.state.siteId,
        siteBoxSecretKey: e.identity.box.secretKey,
        coordinatorBoxPublicKey: e.coordinator.boxPublicKey,
      }) ?? undefined;
    if (!key)
      throw new Error(`site ${e.state.siteId}: no request MAC key (the coordinator's box key gives no agreement)`);
    macKeys.set(e, key);
  }
  return key;
}

/** The authentication headers of one request, fresh (timestamp and nonce). */
function authHeaders(c: Call, auth: RequestCostAuth): Record<string, string> {
  const body = c.body ?? new Uint8Array(0);
  return auth === 'mac'
    ? macRequest({ method: c.method, path: c.path, body, key: macKeyOf(c.enrollment) })
    : signRequest({
        method: c.method,
        path: c.path,
        body,
        siteId: c.enrollment.state.siteId,
        signSecretKey: c.enrollment.identity.sign.secretKey,
      });
}

const FEATURES = Array.from({ length: 16 }, (_, i) => `f${i}`);
/** An evaluation report as a site posts it (metrics of the version on its data). */
const EVALUATION = new TextEncoder().encode(JSON.stringify({ n: 100, metrics: { auc: 0.71, logLoss: 0.52 } }));
/** The coordinator's default request window (the reference checks freshness with it too). */
const WINDOW_MS = 5 * 60_000;

/** Sends `calls` authenticated, `concurrency` at a time over keep-alive connections; returns the 2xx count and the answer sizes. */
async function send(
  baseUrl: string,
  calls: readonly Call[],
  concurrency: number,
  auth: RequestCostAuth,
): Promise<{ ok: number; bytes: Map<string, number>; failures: string[] }> {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const bytes = new Map<string, number>();
  const failures: string[] = [];
  let ok = 0;
  let next = 0;
  const one = (c: Call) =>
    new Promise<void>((resolve) => {
      const headers = authHeaders(c, auth);
      if (c.body) headers['content-type'] = c.type ?? BINARY_MEDIA_TYPE;
      const req = http.request(
        { host: url.hostname, port: url.port, method: c.method, path: c.path, agent, headers },
        (res) => {
          let n = 0;
          res.on('data', (d: Buffer) => (n += d.byteLength));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) ok++;
            else if (failures.length < 5) failures.push(`${c.method} ${c.path}: ${status}`);
            bytes.set(answerKey(c.method, c.path), n);
            resolve();
          });
        },
      );
      req.on('error', (e) => {
        if (failures.length < 5) failures.push(`${c.method} ${c.path}: ${e.message}`);
        resolve();
      });
      req.end(c.body ? Buffer.from(c.body.buffer, c.body.byteOffset, c.body.byteLength) : undefined);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < calls.length; i = next++) await one(calls[i]!);
    }),
  );
  agent.destroy();
  return { ok, bytes, failures };
}

/** CPU µs per request of the process `pid` over `calls`. */
async function measure(
  pid: number,
  baseUrl: string,
  calls: readonly Call[],
  concurrency: number,
  auth: RequestCostAuth,
): Promise<{ us: number; ok: number; bytes: Map<string, number>; failures: string[] }> {
  const cpu0 = cpuOf(pid);
  const r = await send(baseUrl, calls, concurrency, auth);
  return { ...r, us: ((cpuOf(pid) - cpu0) * 1e6) / calls.length };
}

function plan(sites: number): PlanInput {
  return tinyPlan({
    name: `request cost ${sites} sites`,
    features: FEATURES,
    sites,
    rounds: 2,
    roundDeadlineSeconds: 3600,
  });
}

async function startReference(dir: string, setup: object): Promise<{ child: Child; url: string }> {
  const file = path.join(dir, 'reference.json');
  fs.writeFileSync(file, JSON.stringify(setup));
  const child = startNode({ name: 'reference', script: path.join(__dirname, 'reference', 'main.js'), args: [file] });
  const line = await child.waitForLine(/"port"\s*:/, 30_000);
  return { child, url: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}` };
}

/** Runs the section: `sites` enrolled sites, `repeat` requests per site on each read route, one upload per site. */
async function runRequestCost(o: {
  sites: number;
  repeat: number;
  /** Evaluation reports per site. */
  evaluations: number;
  concurrency: number;
  auth: RequestCostAuth;
  profile: boolean;
  log: (line: string) => void;
}): Promise<{ routes: RouteCost[]; errors: string[]; profile?: ProfileSummary }> {
  const coordinatorDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-reqcost-coord-'));
  const scratch = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'twinfed-reqcost-'));
  const profileDir = path.join(scratch, 'profile');
  const { coordinator, url } = await startLocalCoordinator(
    coordinatorDir,
    o.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  );
  let reference: Child | undefined;
  const errors: string[] = [];
  /** The coordinator's measured bursts, on the monotonic clock the profile uses (µs). */
  const window = { fromUs: 0, toUs: 0 };
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  const result: RouteCost[] = [];
  try {
    const { admin, enroll } = await localOperator({ coordinator, url, coordinatorDir });
    const sites = await enroll(o.sites, scratch);
    o.log(`request cost: ${o.sites} sites enrolled`);
    const fed = await admin.createFederation(plan(o.sites));
    let round = (await admin.listRounds(fed.id)).find((x) => x.round === 1);
    for (let wait = 0; (!round || (round.state !== 'open' && round.state !== 'collecting')) && wait < 200; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      round = (await admin.listRounds(fed.id)).find((x) => x.round === 1);
    }
    if (!round) throw new Error('round 1 never opened');
    const vid = round.baseVersionId;
    const reads = (p: (e: Enrollment) => string): Call[] =>
      Array.from({ length: o.repeat }, () =>
        sites.map((e) => ({ method: 'GET' as const, path: p(e), enrollment: e })),
      ).flat();
    const uploaders = sites.slice(0, -1);
    const bodies = uploaders.map((e) => sampleEnvelope(e, fed.id, { baseVersionId: vid, inputs: FEATURES.length }));
    const routes: Array<{ route: string; calls: Call[] }> = [
      {
        route: 'GET /v1/federations/:fid/rounds/current',
        calls: reads(() => `/v1/federations/${fed.id}/rounds/current`),
      },
      { route: 'GET /v1/models/:vid/download', calls: reads(() => `/v1/models/${vid}/download`) },
      {
        // A site's poll as the runner sends it when a round opens: the current round with the version it trains on.
        route: 'GET /v1/federations/:fid/rounds/current/download',
        calls: reads(() => `/v1/federations/${fed.id}/rounds/current/download`),
      },
      {
        // Evaluations are upserts (one per site and version): every site reports the base version `evaluations` times.
        route: 'POST /v1/models/:vid/evaluations',
        calls: Array.from({ length: o.evaluations }, () =>
          sites.map((e) => ({
            method: 'POST' as const,
            path: `/v1/models/${vid}/evaluations`,
            body: EVALUATION,
            type: 'application/json',
            enrollment: e,
          })),
        ).flat(),
      },
      {
        route: 'POST /v1/federations/:fid/rounds/:round/updates',
        calls: uploaders.map((e, i) => ({
          method: 'POST' as const,
          path: `/v1/federations/${fed.id}/rounds/1/updates`,
          body: bodies[i]!,
          enrollment: e,
        })),
      },
    ];
    // Warm-up (JIT, statement caches) on the read routes, not counted.
    for (const r of routes.slice(0, 3))
      await send(url, r.calls.slice(0, Math.min(200, r.calls.length)), o.concurrency, o.auth);
    const coordinatorCost = [];
    const answerBytes: Record<string, number> = {};
    window.fromUs = nowUs();
    for (const r of routes) {
      const m = await measure(coordinator.proc.pid!, url, r.calls, o.concurrency, o.auth);
      for (const [k, n] of m.bytes) answerBytes[k] = n;
      errors.push(...m.failures);
      coordinatorCost.push(m);
      o.log(`request cost: coordinator ${r.route}: ${m.us.toFixed(0)} µs/request, ${m.ok}/${r.calls.length} ok`);
    }
    window.toUs = nowUs();
    const ref = await startReference(scratch, {
      auth: o.auth,
      keys: Object.fromEntries(sites.map((e) => [e.state.siteId, toB64(e.identity.sign.publicKey)])),
      // The MAC keys as the site derives them (the reference plays the coordinator's end with the site's view: the same key).
      macSecrets: Object.fromEntries(
        sites.map((e) => [
          e.state.siteId,
          { siteBox: toB64(e.identity.box.secretKey), coordinatorBox: toB64(e.coordinator.boxPublicKey) },
        ]),
      ),
      answerBytes,
      windowMs: WINDOW_MS,
    });
    reference = ref.child;
    for (const r of routes.slice(0, 3))
      await send(ref.url, r.calls.slice(0, Math.min(200, r.calls.length)), o.concurrency, o.auth);
    for (const [i, r] of routes.entries()) {
      const m = await measure(ref.child.proc.pid!, ref.url, r.calls, o.concurrency, o.auth);
      errors.push(...m.failures);
      const c = coordinatorCost[i]!;
      result.push({
        route: r.route,
        requests: r.calls.length,
        coordinatorUs: c.us,
        referenceUs: m.us,
        overheadUs: c.us - m.us,
        ratio: c.us / m.us,
        errors: r.calls.length - c.ok + (r.calls.length - m.ok),
      });
      o.log(`request cost: reference ${r.route}: ${m.us.toFixed(0)} µs/request, ${m.ok}/${r.calls.length} ok`);
    }
  } finally {
    if (reference) await stop(reference, 5000);
    await stop(coordinator, 15_000); // SIGTERM: the profile is written on the way out
    fs.rmSync(coordinatorDir, { recursive: true, force: true });
  }
  try {
    return {
      routes: result,
      errors,
      ...(o.profile ? { profile: summariseCpuProfileDir(profileDir, 20, window) } : {}),
    };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** The request-cost section, written to `bench/results/request-cost.{json,md}`. */
export async function benchRequestCost(o: {
  quick: boolean;
  label: string;
  /** How requests are authenticated (default `mac`, as sites send them). */
  auth?: RequestCostAuth;
  /** Also profile the coordinator (`--cpu-prof`) over the measured requests and report its top 20 functions. */
  profile?: boolean;
  log?: (line: string) => void;
}): Promise<void> {
  const log = o.log ?? (() => undefined);
  const sites = o.quick ? 50 : 200;
  const repeat = o.quick ? 4 : 10;
  const evaluations = o.quick ? 2 : 5;
  const concurrency = 8;
  const auth = o.auth ?? 'mac';
  const loadBefore = loadAverage();
  const { routes, errors, profile } = await runRequestCost({
    sites,
    repeat,
    evaluations,
    concurrency,
    auth,
    profile: o.profile === true,
    log,
  });
  const table: BenchTable = {
    title: `Coordinator CPU per ${auth === 'mac' ? "MAC'd" : 'signed'} request, against bare node:http verifying the same request`,
    note:
      `${sites} enrolled sites; each read route gets ${repeat} requests per site (\`rounds/current/download\` without \`have\`: the round and the version, as when a round opens), ` +
      `the evaluation route ${evaluations} reports per site of the base version (an upsert), the upload route one sealed update per site but one (the round stays open), ` +
      `${concurrency} in flight over keep-alive connections, every request freshly ${auth === 'mac' ? "MAC'd (HMAC-SHA256 under the site's request key, as sites send them)" : 'signed (Ed25519)'} in the benchmark process. ` +
      'Coordinator: `twinfed coordinator start` on 127.0.0.1 with its durable SQLite store (every acknowledged nonce and upload fsynced first). ' +
      'Reference, same run, same requests: a bare `node:http` process that reads the body, checks its authenticated SHA-256 digest, verifies the ' +
      (auth === 'mac'
        ? "MAC (the coordinator's own `verifyRequestMac`, the key derived once per site)"
        : "Ed25519 signature (the coordinator's own `verifyRequest`)") +
      ' and answers 200 with as many bytes as the coordinator answered. CPU is user + system of each server process from /proc ' +
      'over the burst, divided by its requests. Overhead = coordinator − reference: what the framework, authentication, nonce store, admission, store reads and handler add. ' +
      `Label: ${o.label}.`,
    columns: [
      'route',
      'requests',
      'coordinator µs / request',
      'reference µs / request',
      'overhead µs',
      'coordinator / reference',
      'errors',
    ],
    rows: routes.map((r) => [
      r.route,
      String(r.requests),
      r.coordinatorUs,
      r.referenceUs,
      r.overheadUs,
      r.ratio,
      String(r.errors),
    ]),
  };
  const meta = { ...machineMeta(), label: o.label, auth, loadavg: `${loadBefore} (before), ${loadAverage()} (after)` };
  const tables = [table];
  if (profile)
    tables.push({
      title: 'Coordinator profile over the measured requests: top 20 functions by self time',
      note:
        `\`node --cpu-prof\` on the coordinator; only the samples of its measured bursts (every route above, warm-up and enrollment left out): ` +
        `${(profile.totalMs / 1000).toFixed(1)} s sampled, of which ${(profile.idleMs / 1000).toFixed(1)} s idle. The profiler slows the process: compare ` +
        'shares, not the µs above. A synchronous fsync in a SQLite commit counts as self time of the committing function.',
      columns: ['function (file:line)', 'self ms', '% of busy'],
      rows: profile.top.map((e) => [e.frame, e.selfMs, e.selfPct]),
    });
  if (profile?.byModule)
    tables.push({
      title: 'The same samples by module',
      note:
        "Each sample counts for the nearest frame (the sampled function or a caller) in a package or a workspace folder: node's own work " +
        '(headers, streams, hashing, syscalls) counts for the module that asked for it. Natives with no such caller keep their name.',
      columns: ['module', 'ms', '% of busy'],
      rows: profile.byModule.map((e) => [e.frame, e.selfMs, e.selfPct]),
    });
  const md = toMarkdown('twinfed request cost', meta, tables);
  const out = writeResults('request-cost', { meta, routes, errors, ...(profile ? { profile } : {}) }, md);
  log(`${md}\nwritten: ${out.json}, ${out.md}`);
}
