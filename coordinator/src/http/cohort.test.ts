import { generateToken, hashToken, routes, type CohortResult, type CohortTable } from '@twinfed/shared';
import {
  enrollTestSite,
  json,
  operator,
  startTestCoordinator,
  type TestSite,
  bearerRequest,
} from '../__tests__/harness';

/** Counts by smoker (no, yes) and the mean, sd and pooled sums of bmi. */
const query = {
  title: 'Smokers and BMI before the diabetes plan',
  source: { kind: 'csv' },
  groupBy: [{ kind: 'category', feature: 'smoker', values: [0, 1], labels: ['no', 'yes'] }],
  summaries: { features: ['bmi'], statistics: ['mean', 'sd'], pooled: true },
};

const bmi = (xs: number[]) => ({
  n: xs.length,
  mean: xs.reduce((a, x) => a + x, 0) / xs.length,
  sd: 1,
  sum: xs.reduce((a, x) => a + x, 0),
  sumSq: xs.reduce((a, x) => a + x * x, 0),
});

/** A table whose "yes" cell is released (k 10) or suppressed (k 20). */
function table(k: number, yes: number[] | null, no: number[]): CohortTable {
  return {
    k,
    epsilon: null,
    cells: [
      { levels: ['no'], count: no.length, summaries: { bmi: bmi(no) } },
      { levels: ['yes'], count: yes ? yes.length : null, summaries: { bmi: yes ? bmi(yes) : null } },
    ],
    total: yes ? yes.length + no.length : null,
    suppressedCells: yes ? 0 : 1,
  };
}

const range = (n: number, from: number) => Array.from({ length: n }, (_, i) => from + i / 10);

describe('cohort statistics over HTTP', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let a: TestSite;
  let b: TestSite;
  let z: TestSite;
  let researcher: string;
  let studyA: string;
  let studyB: string;

  beforeAll(async () => {
    c = await startTestCoordinator();
    a = await enrollTestSite(c, 'Alpha');
    b = await enrollTestSite(c, 'Beta');
    z = await enrollTestSite(c, 'Zeta');
    studyA = (await json<{ id: string }>(operator(c, 'POST', routes.studies, { name: 'Study A' }))).id;
    studyB = (await json<{ id: string }>(operator(c, 'POST', routes.studies, { name: 'Study B' }))).id;
    researcher = generateToken('tfr_');
    await c.store.createApiToken({
      id: 'tok-r',
      name: 'ada',
      role: 'researcher',
      tokenHash: hashToken(researcher),
      createdAt: new Date().toISOString(),
      studies: [studyA],
    });
  });
  afterAll(async () => c.close());

  const asResearcher = (method: string, p: string, body?: unknown) => bearerRequest(c.url, researcher, method, p, body);

  async function post(): Promise<string> {
    const res = await asResearcher('POST', routes.cohortQueries, { studyId: studyA, query });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }

  test('a researcher posts a query; sites see it pending, answer once, and it leaves their pending list', async () => {
    const qid = await post();
    const pending = await json<{ queries: Array<{ id: string; answered: string | null }> }>(
      a.request('GET', routes.siteCohortQueries),
    );
    expect(pending.queries.find((q) => q.id === qid)).toMatchObject({ answered: null });

    const t = table(10, range(15, 30), range(25, 22));
    const first = await a.request('PUT', routes.cohortAnswers(qid), { kind: 'table', table: t });
    expect(first.status).toBe(201);
    const again = await a.request('PUT', routes.cohortAnswers(qid), { kind: 'table', table: t });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { status: string }).status).toBe('duplicate');
    const other = await a.request('PUT', routes.cohortAnswers(qid), { kind: 'refusal', reason: 'REJECTED_BY_SITE' });
    expect(other.status).toBe(409);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('ALREADY_EXISTS');

    const after = await json<{ queries: Array<{ id: string }> }>(a.request('GET', routes.siteCohortQueries));
    expect(after.queries.map((q) => q.id)).not.toContain(qid);
    const all = await json<{ queries: Array<{ id: string; answered: string | null }> }>(
      a.request('GET', `${routes.siteCohortQueries}?state=all`),
    );
    expect(all.queries.find((q) => q.id === qid)?.answered).toBe('table');
  });

  test('the result shows each table as sent and combines: a suppressed part makes a lower bound; pooled moments are exact', async () => {
    const qid = await post();
    const yesA = range(15, 30);
    const noA = range(25, 22);
    const noB = range(30, 26);
    expect(
      (await a.request('PUT', routes.cohortAnswers(qid), { kind: 'table', table: table(10, yesA, noA) })).status,
    ).toBe(201);
    expect(
      (await b.request('PUT', routes.cohortAnswers(qid), { kind: 'table', table: table(20, null, noB) })).status,
    ).toBe(201);
    expect((await z.request('PUT', routes.cohortAnswers(qid), { kind: 'refusal', reason: 'NO_DATA' })).status).toBe(
      201,
    );

    const r = await json<CohortResult>(asResearcher('GET', routes.cohortQuery(qid)));
    expect(r.query).toMatchObject({
      id: qid,
      studyId: studyA,
      answered: 2,
      refused: 1,
      createdBy: 'researcher:ada',
    });
    expect(r.sites.map((s) => [s.name, s.status, s.reason])).toEqual([
      ['Alpha', 'answered', null],
      ['Beta', 'answered', null],
      ['Zeta', 'refused', 'NO_DATA'],
    ]);
    // Beta's suppressed cell is shown as sent: null, never a number.
    expect(r.sites[1]!.table!.cells[1]).toEqual({ levels: ['yes'], count: null, summaries: { bmi: null } });
    const [no, yes] = r.combined.cells;
    expect(no!.count).toEqual({ value: 55, atLeast: false, sites: 2, suppressedSites: 0 });
    expect(yes!.count).toEqual({ value: 15, atLeast: true, sites: 1, suppressedSites: 1 });
    expect(r.combined.total).toEqual({ value: 40, atLeast: true, sites: 1, suppressedSites: 1 });
    const pooledNo = no!.pooled!.bmi!;
    const values = [...noA, ...noB];
    const mean = values.reduce((s, x) => s + x, 0) / values.length;
    const variance = values.reduce((s, x) => s + (x - mean) ** 2, 0) / (values.length - 1);
    expect(pooledNo.n).toBe(55);
    expect(pooledNo.mean).toBeCloseTo(mean, 9);
    expect(pooledNo.variance).toBeCloseTo(variance, 9);
    expect(yes!.pooled!.bmi).toMatchObject({ n: 15, sites: 1, withheldSites: 1 });
  });

  test('a table that does not fit the query is refused with VALIDATION_FAILED and nothing is stored', async () => {
    const qid = await post();
    const put = (t: unknown) => a.request('PUT', routes.cohortAnswers(qid), { kind: 'table', table: t });
    const good = table(10, range(15, 30), range(25, 22));
    const misfits = [
      { ...good, k: 5 }, // below the floor of 10 (and counts below k)
      { ...good, cells: [good.cells[1], good.cells[0]] }, // cells out of order
      { ...good, cells: [good.cells[0]] }, // a cell missing
      { ...good, cells: good.cells.map((cell) => ({ ...cell, summaries: { bmi: { n: 20, mean: 1 } } })) }, // sd, pooled sums missing
      { ...good, total: 9 }, // a released count below k
    ];
    for (const t of misfits) {
      const res = await put(t);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    }
    expect((await c.store.listCohortAnswers(qid)).length).toBe(0);
    expect(
      (await a.request('PUT', routes.cohortAnswers('cq-none'), { kind: 'refusal', reason: 'NO_DATA' })).status,
    ).toBe(404);
  });

  test('roles: researchers and operators read and post; sites cannot post or read results; readers cannot answer', async () => {
    const qid = await post();
    expect((await operator(c, 'GET', `${routes.cohortQueries}?study=${studyA}`)).status).toBe(200);
    const listed = await json<{ queries: Array<{ id: string; studyId: string }> }>(
      asResearcher('GET', `${routes.cohortQueries}?study=${studyA}`),
    );
    expect(listed.queries.map((q) => q.id)).toContain(qid);
    expect((await a.request('GET', routes.cohortQuery(qid))).status).toBe(403);
    expect((await a.request('POST', routes.cohortQueries, { studyId: studyA, query })).status).toBe(403);
    expect((await asResearcher('PUT', routes.cohortAnswers(qid), { kind: 'refusal', reason: 'NO_DATA' })).status).toBe(
      403,
    );
    expect((await fetch(c.url + routes.cohortQuery(qid))).status).toBe(401);
    expect((await asResearcher('GET', `${routes.cohortQueries}?study=a%20b`)).status).toBe(400);
    expect((await asResearcher('POST', routes.cohortQueries, { studyId: studyA, query: { title: 'x' } })).status).toBe(
      400,
    );
  });

  test("study scope: a researcher of A neither posts for B, nor lists or reads B's queries (404 as for a missing one)", async () => {
    const theirs = await json<{ id: string }>(operator(c, 'POST', routes.cohortQueries, { studyId: studyB, query }));
    const missing = async (p: string) => {
      const res = await asResearcher('GET', p);
      return { status: res.status, body: await res.json() };
    };
    expect(await missing(routes.cohortQuery(theirs.id))).toEqual(await missing(routes.cohortQuery('cq-none')));
    expect((await missing(routes.cohortQuery(theirs.id))).status).toBe(404);
    expect(await missing(`${routes.cohortQueries}?study=${studyB}`)).toEqual(
      await missing(`${routes.cohortQueries}?study=study-none`),
    );
    const all = await json<{ queries: Array<{ studyId: string }> }>(asResearcher('GET', routes.cohortQueries));
    expect(all.queries.every((q) => q.studyId === studyA)).toBe(true);
    const refused = await asResearcher('POST', routes.cohortQueries, { studyId: studyB, query });
    expect(refused.status).toBe(404);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('UNKNOWN_STUDY');
    // Sites are not scoped by studies: they see and answer B's query.
    const pending = await json<{ queries: Array<{ id: string }> }>(a.request('GET', routes.siteCohortQueries));
    expect(pending.queries.map((q) => q.id)).toContain(theirs.id);
    expect((await operator(c, 'GET', routes.cohortQuery(theirs.id))).status).toBe(200);
    // Every enrolled site is asked; the researcher sees the pending ones outside its studies' federations only counted.
    const fresh = await post();
    const mine = await json<CohortResult>(asResearcher('GET', routes.cohortQuery(fresh)));
    expect({ sites: mine.sites, pendingUnnamed: mine.pendingUnnamed }).toEqual({ sites: [], pendingUnnamed: 3 });
    const operatorView = await json<CohortResult>(operator(c, 'GET', routes.cohortQuery(fresh)));
    expect(operatorView.sites.map((s) => [s.name, s.status])).toEqual([
      ['Alpha', 'pending'],
      ['Beta', 'pending'],
      ['Zeta', 'pending'],
    ]);
    expect(operatorView.pendingUnnamed).toBe(0);
  });

  test('posting and answering are in the audit chain, with digests and no values', async () => {
    const qid = await post();
    await a.request('PUT', routes.cohortAnswers(qid), {
      kind: 'table',
      table: table(10, range(15, 30), range(25, 22)),
    });
    const audit = await json<{ entries: Array<{ action: string; subject: string; actor: string; detail: object }> }>(
      operator(c, 'GET', `${routes.audit}?limit=1000`),
    );
    const mine = audit.entries.filter((e) => e.subject === qid);
    expect(mine.map((e) => [e.action, e.actor])).toEqual([
      ['cohort.query', 'researcher:ada'],
      ['cohort.answer', `site:${a.siteId}`],
    ]);
    expect(mine[1]!.detail).toEqual({
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
      k: 10,
      epsilon: null,
      suppressedCells: 0,
    });
  });
});
