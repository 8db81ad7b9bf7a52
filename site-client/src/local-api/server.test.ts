import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DAY_MS } from '@twinfed/shared';
import { RHR, T_AT, lrWeights, mrn, scoringModel, seedTwins, twinTestPlan } from '../__tests__/twin-site';
import { IngestQueue } from '../stream/ingest-queue';
import { LiveScorer } from '../stream/live-scorer';
import { MemoryTwinStore } from '../twins/memory-store';
import type { TwinStore, TwinWrite, WriteOutcome } from '../twins/store-types';
import { fhirSchemaErrors } from '../__tests__/fhir-schema';
import { startLocalApi, type LocalApi } from './server';
import { bearerChecker, loadOrCreateLocalApiToken, LOCAL_API_TOKEN_FILE } from './token';

const TOKEN = 'local-test-token-0123456789abcdefghijklmnop';
const plan = twinTestPlan();
const weights = lrWeights(plan, [0, 0.1], -8);
const iso = (t: number) => new Date(t).toISOString();
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

interface Setup {
  api: LocalApi;
  store: TwinStore;
  scorer: LiveScorer;
  queue: IngestQueue;
  pids: string[];
  close(): Promise<void>;
}

async function setup(
  opts: { store?: TwinStore; model?: boolean; capacity?: number; maxBodyBytes?: number; maxConcurrent?: number } = {},
): Promise<Setup> {
  const store = opts.store ?? new MemoryTwinStore({ secret: new Uint8Array(32).fill(5) });
  const pids = opts.store ? [] : await seedTwins(store, 3);
  const scorer = new LiveScorer({ store, debounceMs: 10 });
  scorer.start();
  if (opts.model !== false) await scorer.setModel(scoringModel(plan, weights));
  const queue = new IngestQueue({ store, ...(opts.capacity ? { capacity: opts.capacity } : {}) });
  const api = await startLocalApi({
    token: TOKEN,
    store,
    scorer,
    queue,
    ...(opts.maxBodyBytes ? { maxBodyBytes: opts.maxBodyBytes } : {}),
    ...(opts.maxConcurrent ? { maxConcurrent: opts.maxConcurrent } : {}),
  });
  return { api, store, scorer, queue, pids, close: async () => (await api.close(), scorer.close()) };
}

/** Polls `cond` until it holds (bounded, so a broken server fails the test instead of hanging it). */
async function until(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const auth = { authorization: `Bearer ${TOKEN}` };
const post = (s: Setup, body: unknown, headers: Record<string, string> = auth) =>
  fetch(`${s.api.url}/v1/observations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const get = (s: Setup, p: string, headers: Record<string, string> = auth) => fetch(`${s.api.url}${p}`, { headers });
const batch = (ids: string[], value: number) => ({
  deviceId: 'watch-7',
  patientRef: 'Patient/p1',
  samples: ids.map((id, i) => ({ id, t: iso(T_AT - DAY_MS + i * 60_000), code: RHR, value, unit: '/min' })),
});

describe('local API', () => {
  let s: Setup | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  test('requires the bearer token on every route but /healthz', async () => {
    s = await setup();
    expect((await get(s, '/healthz', {})).status).toBe(200);
    for (const [p, h] of [
      ['/v1/scores', {}],
      ['/v1/status', { authorization: 'Bearer wrong' }],
      [`/v1/twins/${s.pids[0]}/score`, { authorization: TOKEN }],
    ] as const) {
      const res = await get(s, p, h);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    }
    const res = await post(s, batch(['a'], 80), {});
    expect(res.status).toBe(401);
    expect((await s.store.counts()).observations).toBe(3); // nothing written
  });

  test('posted samples change the twin’s features and score; duplicates are ignored and counted', async () => {
    s = await setup();
    const pid = s.pids[1]!;
    const before = (await (await get(s, `/v1/twins/${pid}/score`)).json()) as {
      score: number;
      versionId: string;
      tier: string;
    };
    expect(before.score).toBeCloseTo(sigmoid(0.1 * 61 - 8), 5);
    const res = await post(s, batch(['s1', 's2', 's3'], 141));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 3, duplicates: 0, rejected: [] });
    const expected = sigmoid(0.1 * ((61 + 3 * 141) / 4) - 8); // 7-day mean of the clinic value and the three samples
    // Each read waits (≤ 1 s) for a pending rescore; a loaded machine may need a few reads, hence the wider bound.
    const started = Date.now();
    let after = before;
    while (Math.abs(after.score - expected) > 1e-5 && Date.now() - started < 20_000) {
      after = (await (await get(s, `/v1/twins/${pid}/score`)).json()) as typeof before;
    }
    expect(after.score).toBeCloseTo(expected, 5);
    expect(after.tier).toBe('high');
    const contributions = (after as unknown as { contributions: { text: string }[] }).contributions.map((c) => c.text);
    expect(contributions[0]).toMatch(/^resting heart rate 7-day mean 121 bpm, \+12\.1$/);
    // the same samples again: nothing changes, all counted as duplicates
    const again = await post(s, batch(['s1', 's2', 's3'], 141));
    expect(await again.json()).toEqual({ accepted: 0, duplicates: 3, rejected: [] });
    expect((await s.store.getTwin(pid))!.observations).toHaveLength(4);
    const top = (await (await get(s, '/v1/scores?top=2')).json()) as { versionId: string; scores: { pid: string }[] };
    expect(top.versionId).toBe('v1');
    expect(top.scores.map((x) => x.pid)).toEqual([pid, s.pids[2]]);
  });

  test('answers 503 with Retry-After when the ingest queue is full, and 429 when too many requests run at once', async () => {
    const inner = new MemoryTwinStore({ secret: new Uint8Array(32).fill(5) });
    await seedTwins(inner, 3);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slow = Object.assign(Object.create(inner) as TwinStore, {
      apply: async (w: readonly TwinWrite[]): Promise<WriteOutcome[]> => (await gate, inner.apply(w)),
      onChange: (l: Parameters<TwinStore['onChange']>[0]) => inner.onChange(l),
    });
    s = await setup({ store: slow, model: false, capacity: 5, maxConcurrent: 2 });
    const first = post(s, batch(['a', 'b', 'c', 'd'], 70));
    await until(() => s!.queue.depth === 4); // the first request is in, held by the store
    const full = await post(s, batch(['e', 'f'], 70));
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('1');
    expect(((await full.json()) as { error: { code: string } }).error.code).toBe('OVERLOADED');
    const second = post(s, batch(['g'], 70)); // fits: 4 + 1 ≤ 5, waits behind the first
    await until(() => s!.queue.depth === 5); // two requests running: the limit
    const busy = await get(s, '/v1/status');
    expect(busy.status).toBe(429);
    expect(busy.headers.get('retry-after')).toBe('1');
    release();
    expect(await (await first).json()).toEqual({ accepted: 4, duplicates: 0, rejected: [] });
    expect(await (await second).json()).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    expect((await get(s, '/v1/status')).status).toBe(200);
  });

  test('refuses oversized, non-JSON and malformed bodies with their codes; scores wait for a model', async () => {
    s = await setup({ maxBodyBytes: 2000, model: false });
    const big = await post(
      s,
      batch(
        Array.from({ length: 40 }, (_, i) => `s${i}`),
        70,
      ),
    );
    expect(big.status).toBe(413);
    const text = await fetch(`${s.api.url}/v1/observations`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: 'hi',
    });
    expect(text.status).toBe(415);
    const bad = await fetch(`${s.api.url}/v1/observations`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"deviceId":',
    });
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('INVALID_JSON');
    const invalid = await post(s, { deviceId: 'w', samples: [] });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    const scores = await get(s, '/v1/scores');
    expect(scores.status).toBe(503);
    expect(((await scores.json()) as { error: { code: string } }).error.code).toBe('NOT_READY');
  });

  test('serves pids only; a lookup by hospital id is resolved locally and audited', async () => {
    s = await setup();
    const res = await get(s, `/v1/scores?hospitalId=${encodeURIComponent(mrn(2))}`, {
      ...auth,
      'x-twinfed-actor': 'nurse.kim',
    });
    const body = await res.text();
    expect(res.status).toBe(200);
    expect(body).not.toContain(mrn(2));
    expect((JSON.parse(body) as { scores: { pid: string }[] }).scores.map((x) => x.pid)).toEqual([s.pids[2]]);
    const audit = await s.store.listAudit({ pid: s.pids[2]! });
    expect(audit.filter((a) => a.action === 'hospital-id-resolved')).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ actor: 'nurse.kim' }) }),
    ]);
    expect((await get(s, '/v1/scores?hospitalId=MRN-99999')).status).toBe(404);
    const all = await (await get(s, '/v1/scores?top=10')).text();
    for (let i = 0; i < 3; i++) expect(all).not.toContain(mrn(i));
    expect((await get(s, '/v1/scores?top=0')).status).toBe(400);
  });

  test('answers FHIR R4 RiskAssessments with ?format=fhir or Accept: application/fhir+json, each subject audited', async () => {
    s = await setup();
    const res = await get(s, '/v1/scores?top=3&format=fhir', { ...auth, 'x-twinfed-actor': 'ehr-bridge' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    const bundle = (await res.json()) as {
      resourceType: string;
      type: string;
      entry: {
        resource: { subject: { identifier: { value: string } }; prediction: { probabilityDecimal: number }[] };
      }[];
    };
    expect(fhirSchemaErrors(bundle)).toEqual([]);
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    // highest first: the oldest twin (age 36, heart rate 62) scores highest with positive weights
    expect(bundle.entry.map((e) => e.resource.subject.identifier.value)).toEqual([mrn(2), mrn(1), mrn(0)]);
    expect(bundle.entry[0]!.resource.prediction[0]!.probabilityDecimal).toBeCloseTo(sigmoid(0.1 * 62 - 8), 5);
    const resolved = (await s.store.listAudit()).filter((a) => a.action === 'hospital-id-resolved');
    expect(resolved.map((a) => [a.pid, a.detail.actor])).toEqual([2, 1, 0].map((i) => [s!.pids[i], 'ehr-bridge']));
    // One twin, by Accept header: a single resource; ?format=json keeps the pseudonymous view.
    const one = await get(s, `/v1/twins/${s.pids[1]!}/score`, { ...auth, accept: 'application/fhir+json' });
    const resource = (await one.json()) as { resourceType: string; subject: { identifier: { value: string } } };
    expect(fhirSchemaErrors(resource)).toEqual([]);
    expect(JSON.stringify(resource)).toContain(scoringModel(plan, weights).meta.weightsSha256);
    expect(resource).toMatchObject({ resourceType: 'RiskAssessment', subject: { identifier: { value: mrn(1) } } });
    const plain = await (await get(s, `/v1/twins/${s.pids[1]!}/score?format=json`)).text();
    expect(plain).not.toContain(mrn(1));
    const bad = await get(s, '/v1/scores?format=xml');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
  });
});

describe('local API token', () => {
  test('is created once with mode 0600 and compared by digest', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-token-'));
    const token = loadOrCreateLocalApiToken(dir);
    expect(loadOrCreateLocalApiToken(dir)).toBe(token);
    expect(fs.statSync(path.join(dir, LOCAL_API_TOKEN_FILE)).mode & 0o777).toBe(0o600);
    const check = bearerChecker(token);
    expect(check(`Bearer ${token}`)).toBe(true);
    expect(check(`Bearer ${token}x`)).toBe(false);
    expect(check(token)).toBe(false);
    expect(check(undefined)).toBe(false);
    fs.chmodSync(path.join(dir, LOCAL_API_TOKEN_FILE), 0o644);
    expect(() => loadOrCreateLocalApiToken(dir)).toThrow(/readable by other users/);
  });
});
