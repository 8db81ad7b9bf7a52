import {
  CohortQuerySchema,
  cohortPoolContext,
  cohortPoolVector,
  fromB64,
  generateToken,
  hashToken,
  maskContribution,
  routes,
  toB64,
  withoutSummaries,
  type CohortPoolView,
  type CohortResult,
  type CohortTable,
} from '@twinfed/shared';
import {
  enrollTestSite,
  json,
  operator,
  startTestCoordinator,
  type TestSite,
  bearerRequest,
} from '../__tests__/harness';
import { poolMoments } from '../cohort/combine';

/** Counts by smoker (no, yes) and bmi pooled through the secure sum. */
const query = {
  title: 'Smokers and BMI, pooled securely',
  source: { kind: 'csv' },
  groupBy: [{ kind: 'category', feature: 'smoker', values: [0, 1], labels: ['no', 'yes'] }],
  summaries: { features: ['bmi'], statistics: ['mean'], pooled: 'secure' },
};
const parsed = CohortQuerySchema.parse(query);

const range = (n: number, from: number) => Array.from({ length: n }, (_, i) => from + i / 7);
const sums = (xs: number[]) => ({
  n: xs.length,
  mean: xs.reduce((a, x) => a + x, 0) / xs.length,
  sum: xs.reduce((a, x) => a + x, 0),
  sumSq: xs.reduce((a, x) => a + x * x, 0),
});

/** A site's table as computed (with its sums; the "yes" cell withheld when null). */
function computed(no: number[], yes: number[] | null): CohortTable {
  return {
    k: 10,
    epsilon: null,
    cells: [
      { levels: ['no'], count: no.length, summaries: { bmi: sums(no) } },
      { levels: ['yes'], count: yes ? yes.length : null, summaries: { bmi: yes ? sums(yes) : null } },
    ],
    total: yes ? no.length + yes.length : null,
    suppressedCells: yes ? 0 : 1,
  };
}

/** Every number in a JSON value. */
function numbersIn(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(numbersIn);
}

const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe('secure pooling of cohort statistics over HTTP', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let sites: TestSite[];
  let researcher: string;

  beforeAll(async () => {
    c = await startTestCoordinator();
    sites = [];
    for (const name of ['Alpha', 'Beta', 'Gamma', 'Delta']) sites.push(await enrollTestSite(c, name));
    researcher = generateToken('tfr_');
    await c.store.createApiToken({
      id: 'tok-r',
      name: 'ada',
      role: 'researcher',
      tokenHash: hashToken(researcher),
      createdAt: new Date().toISOString(),
      studies: ['default'],
    });
  });
  afterAll(async () => c.close());

  const asResearcher = (method: string, p: string, body?: unknown) => bearerRequest(c.url, researcher, method, p, body);

  async function post(q: object = query): Promise<string> {
    const res = await asResearcher('POST', routes.cohortQueries, { studyId: 'default', query: q });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }

  const answer = (s: TestSite, qid: string, t: CohortTable) =>
    s.request('PUT', routes.cohortAnswers(qid), { kind: 'table', table: withoutSummaries(t) });

  /** The site's masked vector for the pool's cohort, as `twinfed-site stats pool` computes it. */
  function masked(s: TestSite, qid: string, view: CohortPoolView, t: CohortTable): string {
    return toB64(
      maskContribution({
        values: cohortPoolVector(parsed, t),
        siteId: s.siteId,
        boxSecretKey: s.identity.box.secretKey,
        cohort: view.cohort.map((m) => ({ siteId: m.siteId, boxPublicKey: fromB64(m.boxPublicKey) })),
        context: cohortPoolContext(qid),
        fractionBits: view.fractionBits,
      }),
    );
  }

  test('the cohort is fixed when every site has answered; members send masked vectors once; the sum gives the pooled figures and no site’s sums', async () => {
    const qid = await post();
    const data = [
      { no: range(25, 22), yes: range(15, 30) },
      { no: range(30, 26), yes: null },
      { no: range(12, 19), yes: range(11, 35) },
    ];
    const tables = data.map((d) => computed(d.no, d.yes));
    const [a, b, g, d] = sites as [TestSite, TestSite, TestSite, TestSite];

    // A table with per-site summaries does not answer a securely pooled query.
    const withSums = await a.request('PUT', routes.cohortAnswers(qid), { kind: 'table', table: tables[0] });
    expect(withSums.status).toBe(400);
    expect(await code(withSums)).toBe('VALIDATION_FAILED');

    expect((await answer(a, qid, tables[0]!)).status).toBe(201);
    expect((await answer(b, qid, tables[1]!)).status).toBe(201);
    // Not every site has answered: no cohort yet.
    const waiting = await json<CohortPoolView>(a.request('GET', routes.cohortPool(qid)));
    expect(waiting).toMatchObject({ state: 'waiting', cohort: [], contributed: [], length: 6, result: null });
    const early = await a.request('POST', routes.cohortPool(qid), { masked: toB64(new Uint8Array(48)) });
    expect(early.status).toBe(409);
    expect(await code(early)).toBe('COHORT_POOL_NOT_OPEN');

    expect((await answer(g, qid, tables[2]!)).status).toBe(201);
    expect((await d.request('PUT', routes.cohortAnswers(qid), { kind: 'refusal', reason: 'NO_DATA' })).status).toBe(
      201,
    );
    const view = await json<CohortPoolView>(a.request('GET', routes.cohortPool(qid)));
    const members = [a, b, g].map((s) => s.siteId).sort();
    expect(view.state).toBe('open');
    expect(view.cohort.map((m) => m.siteId)).toEqual(members);
    expect(view.cohort.find((m) => m.siteId === a.siteId)?.boxPublicKey).toBe(toB64(a.identity.box.publicKey));

    const outsider = await d.request('POST', routes.cohortPool(qid), { masked: masked(a, qid, view, tables[0]!) });
    expect(outsider.status).toBe(403);
    expect(await code(outsider)).toBe('COHORT_POOL_NOT_MEMBER');
    const short = await a.request('POST', routes.cohortPool(qid), { masked: toB64(new Uint8Array(40)) });
    expect(short.status).toBe(400);
    expect(await code(short)).toBe('COHORT_POOL_BAD_LENGTH');

    const mine = masked(a, qid, view, tables[0]!);
    const first = await a.request('POST', routes.cohortPool(qid), { masked: mine });
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ status: 'accepted', contributed: 1, cohort: 3, state: 'open' });
    const again = await a.request('POST', routes.cohortPool(qid), { masked: mine });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { status: string }).status).toBe('duplicate');
    const other = await a.request('POST', routes.cohortPool(qid), { masked: masked(a, qid, view, tables[1]!) });
    expect(other.status).toBe(409);
    expect(await code(other)).toBe('ALREADY_EXISTS');
    expect((await json<CohortResult>(asResearcher('GET', routes.cohortQuery(qid)))).pool).toEqual({
      state: 'open',
      cohort: 3,
      contributed: 1,
      code: null,
    });

    expect((await b.request('POST', routes.cohortPool(qid), { masked: masked(b, qid, view, tables[1]!) })).status).toBe(
      201,
    );
    const last = await g.request('POST', routes.cohortPool(qid), { masked: masked(g, qid, view, tables[2]!) });
    expect(await last.json()).toMatchObject({ status: 'accepted', contributed: 3, cohort: 3, state: 'complete' });
    // A re-sent vector after completion is still a duplicate.
    expect((await a.request('POST', routes.cohortPool(qid), { masked: mine })).status).toBe(200);

    const done = await json<CohortPoolView>(asResearcher('GET', routes.cohortPool(qid)));
    expect(done.state).toBe('complete');
    const r = await json<CohortResult>(asResearcher('GET', routes.cohortQuery(qid)));
    expect(r.pool).toEqual({ state: 'complete', cohort: 3, contributed: 3, code: null });
    // Clear pooling of the same released groups (n ≥ k in released cells), for comparison.
    const sent = r.sites.filter((s) => s.table !== null);
    expect(sent.length).toBe(3);
    for (const s of sent) expect(s.table!.cells.every((cell) => cell.summaries === undefined)).toBe(true);
    for (const [i, cell] of r.combined.cells.entries()) {
      const clear = poolMoments(
        tables.flatMap((t) => {
          const s = t.cells[i]!.summaries!.bmi;
          return s ? [{ n: s.n, sum: s.sum!, sumSq: s.sumSq! }] : [];
        }),
      )!;
      const secure = cell.pooled!.bmi!;
      expect(secure).toEqual(done.result!.cells[i]!.bmi);
      expect(secure.n).toBe(clear.n);
      expect(secure.mean).toBeCloseTo(clear.mean, 5);
      expect(secure.variance!).toBeCloseTo(clear.variance!, 4);
      expect(secure).toMatchObject({ sites: 3, withheldSites: null });
    }
    // What the coordinator stored: tables without sums, masked vectors, and the pooled figures only.
    const stored = numbersIn({
      answers: await c.store.listCohortAnswers(qid),
      pool: await c.store.getCohortPool(qid),
      view: done,
      result: r,
    });
    for (const t of tables)
      for (const cell of t.cells) {
        const s = cell.summaries!.bmi;
        if (s)
          for (const v of [s.sum!, s.sumSq!, s.mean!])
            expect(stored.filter((x) => Math.abs(x - v) <= 1e-6 * Math.abs(v))).toEqual([]);
      }
    const audit = await json<{ entries: Array<{ action: string; subject: string }> }>(
      operator(c, 'GET', `${routes.audit}?limit=1000`),
    );
    expect(audit.entries.filter((e) => e.subject === qid && e.action === 'cohort.pool.contribute').length).toBe(3);
  });

  test('fewer than 3 sites with a table: the pool fails with COHORT_TOO_SMALL, shown in the result', async () => {
    const qid = await post();
    const [a, b, g, d] = sites as [TestSite, TestSite, TestSite, TestSite];
    expect((await answer(a, qid, computed(range(20, 1), null))).status).toBe(201);
    expect((await answer(b, qid, computed(range(20, 2), null))).status).toBe(201);
    for (const s of [g, d])
      expect((await s.request('PUT', routes.cohortAnswers(qid), { kind: 'refusal', reason: 'NO_DATA' })).status).toBe(
        201,
      );
    const view = await json<CohortPoolView>(a.request('GET', routes.cohortPool(qid)));
    expect(view).toMatchObject({ state: 'failed', code: 'COHORT_TOO_SMALL', result: null });
    const refused = await a.request('POST', routes.cohortPool(qid), { masked: toB64(new Uint8Array(48)) });
    expect(refused.status).toBe(409);
    expect(await code(refused)).toBe('COHORT_TOO_SMALL');
    const r = await json<CohortResult>(asResearcher('GET', routes.cohortQuery(qid)));
    expect(r.pool).toEqual({ state: 'failed', cohort: 2, contributed: 0, code: 'COHORT_TOO_SMALL' });
    expect(r.combined.cells.map((cell) => cell.pooled)).toEqual([{ bmi: null }, { bmi: null }]);
  });

  test('roles and kinds: a clear-pooled query has no pool (404); readers cannot contribute; anonymous callers 401', async () => {
    const clear = await post({ ...query, summaries: { ...query.summaries, pooled: true } });
    const res = await asResearcher('GET', routes.cohortPool(clear));
    expect(res.status).toBe(404);
    expect(await code(res)).toBe('NOT_FOUND');
    expect((await asResearcher('GET', routes.cohortPool('cq-none'))).status).toBe(404);
    const qid = await post();
    expect((await operator(c, 'GET', routes.cohortPool(qid))).status).toBe(200);
    expect((await asResearcher('POST', routes.cohortPool(qid), { masked: 'AAAA' })).status).toBe(403);
    expect((await fetch(c.url + routes.cohortPool(qid))).status).toBe(401);
    expect((await sites[0]!.request('POST', routes.cohortPool('cq-none'), { masked: 'AAAA' })).status).toBe(404);
  });
});
