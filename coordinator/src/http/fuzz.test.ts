import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { errorCodesOf, planDigest, PlanSchema, routes, signRequest } from '@twinfed/shared';
import { fuzzCase, targetOf, type FuzzCase } from './__tests__/fuzz/cases';
import { ROUTES } from './__tests__/fuzz/paths';
import { send, type Outcome } from './__tests__/fuzz/send';
import { snapshotStore } from './__tests__/fuzz/snapshot';
import { runSocketCase, socketCase, type SocketOutcome } from './__tests__/fuzz/sockets';
import { Tally, violation } from './__tests__/fuzz/tally';
import { buildWorld, type World } from './__tests__/fuzz/world';

/**
 * Fuzzing every HTTP route of the coordinator (route-table.ts) and every socket.io event it handles (namespace /sites)
 * with generated requests: real credentials (operator, researcher, enrolled sites signing with shared's signRequest)
 * mixed with broken ones, mutated bodies, encodings, media types, declared lengths, methods, paths and query strings,
 * raw malformed HTTP and hang-ups. The coordinator must answer every one (no hang), never with a 5xx, never log an
 * error, never answer 2xx without a credential valid for the route, and leave its store exactly as it was: the
 * generators never send a request that could write (cases.ts `neutralise`), and the last test shows that the
 * snapshot does change under real writes, so its check can fail.
 *
 * TWINFED_FUZZ_SEED (default fixed) and TWINFED_FUZZ_RUNS (HTTP requests, default 10,000; socket cases are a
 * twentieth of it) reproduce or widen a run; TWINFED_FUZZ_SHRINK=1 shrinks a failure (slow); the counts by status
 * go to the log and to TWINFED_FUZZ_REPORT (default: a file in the temp dir, its path printed).
 */
const SEED = Number(process.env.TWINFED_FUZZ_SEED ?? 20_251_110);
const RUNS = Number(process.env.TWINFED_FUZZ_RUNS ?? 10_000);
const SOCKET_RUNS = Math.max(50, Math.ceil(RUNS / 20));
const SHRINK = process.env.TWINFED_FUZZ_SHRINK === '1';
const REPORT = process.env.TWINFED_FUZZ_REPORT ?? path.join(os.tmpdir(), 'twinfed-fuzz-report.txt');
/** Requests per fast-check run (sent 16 at a time; each run waits for its slowest): a failing run names its failing request. */
const CHUNK = 1000;
const CONCURRENCY = 16;
const REQUEST_TIMEOUT_MS = 10_000;

/** Runs `f` over `items`, `n` at a time, in order of start. */
async function pool<T, R>(items: readonly T[], n: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]!);
      }
    }),
  );
  return out;
}

/** Null when equal, else the text around the first difference of two snapshots. */
function firstDifference(a: string, b: string): string | null {
  if (a === b) return null;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at ${i}: before …${a.slice(Math.max(0, i - 300), i + 200)}… after …${b.slice(Math.max(0, i - 300), i + 200)}…`;
}

function describeCase(c: FuzzCase): string {
  const cut = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}…(${s.length})` : s);
  if (c.transport === 'raw') return cut(JSON.stringify(c.text));
  const body =
    c.body.kind === 'json'
      ? cut(JSON.stringify(c.body.value) ?? '')
      : c.body.kind === 'text'
        ? cut(JSON.stringify(c.body.text))
        : c.body.kind === 'bytes'
          ? `${c.body.bytes.length} bytes`
          : c.body.kind === 'envelope'
            ? `envelope ${c.body.variant}`
            : 'none';
  return `${c.method} ${cut(targetOf(c))} credential=${JSON.stringify(c.credential)} body=${body} headers=${JSON.stringify(c.headers)}`;
}

/** Fails with the seed, the fast-check path and the property's own message (not the whole chunk of cases). */
async function check<T>(arb: fc.Arbitrary<T>, runs: number, property: (t: T) => Promise<void>): Promise<void> {
  const details = await fc.check(fc.asyncProperty(arb, property), { seed: SEED, numRuns: runs, endOnFailure: !SHRINK });
  if (details.failed) {
    const why = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(
      `fuzz failure (reproduce: TWINFED_FUZZ_SEED=${details.seed} TWINFED_FUZZ_RUNS=${RUNS}; fast-check path ${details.counterexamplePath}):\n${why}`,
    );
  }
}

describe('fuzz: every route and socket event of the coordinator', () => {
  let w: World;
  let before: string;
  let agent: http.Agent;
  const tally = new Tally();
  /** `route code` of every error answer whose code the route's operation in the contract does not list. */
  const undeclared = new Set<string>();
  const sockets = new Map<string, number>();
  const errorLines: Array<{ msg: string }> = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  let httpMs = 0;
  let socketMs = 0;

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    w = await buildWorld({ onError: (l) => void errorLines.push(l) });
    agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    before = await snapshotStore(w.c.store);
    console.log(
      `fuzz: seed ${SEED} (TWINFED_FUZZ_SEED), ${RUNS} HTTP requests (TWINFED_FUZZ_RUNS), ${SOCKET_RUNS} socket cases`,
    );
  }, 60_000);

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    agent?.destroy();
    await w?.close();
  }, 30_000);

  test('socket.io: generated handshakes and events on /sites (and other namespaces) are answered as promised', async () => {
    const started = performance.now();
    await check(fc.array(socketCase, { minLength: 25, maxLength: 25 }), Math.ceil(SOCKET_RUNS / 25), async (cases) => {
      const outcomes: SocketOutcome[] = await pool(cases, 6, (c) => runSocketCase(c, w, REQUEST_TIMEOUT_MS));
      const bad = outcomes
        .map((o, i) =>
          o.violation ? `${o.violation}: ${JSON.stringify(cases[i]).slice(0, 400)} → ${JSON.stringify(o)}` : null,
        )
        .filter((x) => x !== null);
      for (const o of outcomes) {
        sockets.set(o.result, (sockets.get(o.result) ?? 0) + 1);
        sockets.set('acks', (sockets.get('acks') ?? 0) + o.acks);
      }
      if (bad.length > 0)
        throw new Error(`${bad.length} socket cases broke a promise; first ones:\n${bad.slice(0, 3).join('\n')}`);
    });
    socketMs = performance.now() - started;
  }, 120_000);

  test(`HTTP: generated requests to every route get an answer, never a 5xx, never a 2xx without a valid credential`, async () => {
    const started = performance.now();
    await check(
      fc.array(fuzzCase(w), { minLength: CHUNK, maxLength: CHUNK }),
      Math.ceil(RUNS / CHUNK),
      async (cases) => {
        const outcomes: Outcome[] = await pool(cases, CONCURRENCY, (c) => send(c, w, agent, REQUEST_TIMEOUT_MS));
        const bad: string[] = [];
        cases.forEach((c, i) => {
          tally.add(c, outcomes[i]!);
          const o = outcomes[i]!;
          if (
            c.transport === 'http' &&
            c.route &&
            c.method === c.route.method.toUpperCase() &&
            c.shape === 'same' &&
            o.status !== null &&
            o.status >= 400 &&
            o.code &&
            !errorCodesOf(c.route.operation).includes(o.code as never)
          )
            undeclared.add(`${c.route.key} ${o.code}`);
          const v = violation(c, outcomes[i]!);
          if (v) bad.push(`${v}\n  request: ${describeCase(c)}\n  answer: ${JSON.stringify(outcomes[i])}`);
        });
        if (bad.length > 0)
          throw new Error(
            `${bad.length} of ${cases.length} requests broke a promise; first ones:\n${bad.slice(0, 3).join('\n')}`,
          );
      },
    );
    httpMs = performance.now() - started;
  }, 240_000);

  test('afterwards: the store is byte-identical, health answers, nothing was logged as an error, no unhandled rejection', async () => {
    expect(firstDifference(before, await snapshotStore(w.c.store))).toBeNull();
    const health = await fetch(w.c.url + routes.healthz, { signal: AbortSignal.timeout(5000) });
    expect(health.status).toBe(200);
    expect((await fetch(w.c.url + routes.readyz, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
    expect(w.c.server.listening).toBe(true);
    expect(errorLines).toEqual([]);
    expect(unhandled).toEqual([]);
  }, 30_000);

  test('every error code a route answered with is one its operation in the contract lists (shared/src/api/contract.ts)', () => {
    expect([...undeclared].sort()).toEqual([]);
  });

  test('meta: the run was not vacuous — every route hit, most requests reached authentication, every kind of answer seen', () => {
    const report = tally.report({
      sockets: Object.fromEntries(sockets),
      'HTTP wall time (ms)': Math.round(httpMs),
      'socket wall time (ms)': Math.round(socketMs),
      seed: SEED,
    });
    fs.writeFileSync(REPORT, report + '\n');
    console.log(`fuzz report (also in ${REPORT}):\n${report}`);

    expect(tally.total).toBeGreaterThanOrEqual(RUNS);
    // Every route, with its own method, at least 20 times (it gets about 200 at the default run length).
    const missing = ROUTES.filter((r) => (tally.byRoute.get(r.key) ?? 0) < Math.min(20, RUNS / 500)).map((r) => r.key);
    expect(missing).toEqual([]);
    // Every read route answered 2xx to some valid caller.
    const reads = ROUTES.filter((r) => r.method === 'get').filter(
      (r) => ![...(tally.routeStatuses.get(r.key) ?? new Map<string, number>()).keys()].some((s) => /^2/.test(s)),
    );
    expect(reads.map((r) => r.key)).toEqual([]);
    const stage = (s: string) => tally.byStage.get(s as never) ?? 0;
    expect(stage('refused-at-auth') + stage('past-auth')).toBeGreaterThan(0.5 * tally.total);
    expect(stage('past-auth')).toBeGreaterThan(0.25 * tally.total);
    const twoXx = [...tally.byStatus.entries()].filter(([s]) => /^2/.test(s)).reduce((n, [, v]) => n + v, 0);
    expect(twoXx).toBeGreaterThan(0.05 * tally.total);
    // The refusals of every kind the coordinator has (it answers a wrong method with 404, so there is no 405).
    for (const s of ['400', '401', '403', '404', '413', '415']) expect([s, tally.count(s) >= 20]).toEqual([s, true]);
    for (const s of ['408', '409', '431']) expect([s, tally.count(s) > 0]).toEqual([s, true]);
    expect(sockets.get('connected') ?? 0).toBeGreaterThan(SOCKET_RUNS * 0.1);
    expect(sockets.get('refused') ?? 0).toBeGreaterThan(SOCKET_RUNS * 0.1);
    expect(sockets.get('acks') ?? 0).toBeGreaterThan(0);
  });

  test('the snapshot check can fail: each valid write changes the store snapshot', async () => {
    const [member, , outsider] = w.signers;
    const op = (method: string, p: string, body?: unknown) =>
      fetch(w.c.url + p, {
        method,
        headers: {
          authorization: `Bearer ${w.operatorToken}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    const site = (p: string, body: unknown, method = 'POST') => {
      const bytes = new TextEncoder().encode(JSON.stringify(body));
      return fetch(w.c.url + p, {
        method,
        headers: {
          ...signRequest({
            method,
            path: p,
            body: bytes,
            siteId: member!.siteId,
            signSecretKey: member!.identity.sign.secretKey,
          }),
          'content-type': 'application/json',
        },
        body: bytes,
      });
    };
    const writes: Array<[string, () => Promise<Response>]> = [
      [
        'create a token',
        () => op('POST', routes.tokens, { name: 'after fuzz', role: 'researcher', studies: ['default'] }),
      ],
      ['invite a site', () => op('POST', routes.invitations, { siteName: 'After Fuzz' })],
      [
        'report an evaluation',
        () => site(routes.modelEvaluations(w.plain.versions.at(-1)!), { n: 10, metrics: { accuracy: 0.9 } }),
      ],
      [
        'decide about a plan',
        () =>
          site(
            routes.federationDecision(w.plain.id),
            { decision: 'rejected', planSha256: planDigest(PlanSchema.parse(w.plain.plan)) },
            'PUT',
          ),
      ],
      ['revoke a token', () => op('POST', routes.revokeToken(w.researcherTokenId))],
      ['revoke a site', () => op('POST', routes.revokeSite(outsider!.siteId))],
    ];
    let previous = await snapshotStore(w.c.store);
    for (const [what, write] of writes) {
      const res = await write();
      expect([what, res.status < 300]).toEqual([what, true]);
      const now = await snapshotStore(w.c.store);
      expect([what, now !== previous]).toEqual([what, true]);
      previous = now;
    }
  }, 30_000);
});
