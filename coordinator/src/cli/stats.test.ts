import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateToken, hashToken, routes, type CohortResult } from '@twinfed/shared';
import { enrollTestSite, json, operator, startTestCoordinator, type TestSite } from '../__tests__/harness';
import { run } from './__tests__/harness';

const query = {
  title: 'Smokers before the diabetes plan',
  source: { kind: 'csv' },
  groupBy: [{ kind: 'category', feature: 'smoker', values: [0, 1], labels: ['no', 'yes'] }],
  summaries: { features: ['bmi'], statistics: ['mean'], pooled: true },
};

const summary = (n: number, mean: number) => ({ n, mean, sum: n * mean, sumSq: n * mean * mean + (n - 1) * 4 });

/** Counts 25 (no) and 15 (yes): released with k 10, the 15 suppressed (and its partner) with k 20. */
const tables = {
  k10: {
    k: 10,
    epsilon: null,
    cells: [
      { levels: ['no'], count: 25, summaries: { bmi: summary(25, 26) } },
      { levels: ['yes'], count: 15, summaries: { bmi: summary(15, 29) } },
    ],
    total: 40,
    suppressedCells: 0,
  },
  k20: {
    k: 20,
    epsilon: 1,
    cells: [
      { levels: ['no'], count: null, summaries: { bmi: null } },
      { levels: ['yes'], count: null, summaries: { bmi: null } },
    ],
    total: 41,
    suppressedCells: 2,
  },
};

describe('twinfed stats (against a real coordinator)', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let dir: string;
  let file: string;
  let a: TestSite;
  let b: TestSite;
  let researcher: string;
  let studyA: string;
  let studyB: string;
  beforeAll(async () => {
    c = await startTestCoordinator();
    dir = await mkdtemp(path.join(os.tmpdir(), 'twinfed-stats-cli-'));
    file = path.join(dir, 'query.json');
    await writeFile(file, JSON.stringify(query));
    a = await enrollTestSite(c, 'Alpha');
    b = await enrollTestSite(c, 'Beta');
    studyA = (await json<{ id: string }>(operator(c, 'POST', routes.studies, { name: 'Study A' }))).id;
    studyB = (await json<{ id: string }>(operator(c, 'POST', routes.studies, { name: 'Study B' }))).id;
    researcher = generateToken('tfr_');
    await c.store.createApiToken({
      id: 'tok-ada',
      name: 'ada',
      role: 'researcher',
      tokenHash: hashToken(researcher),
      createdAt: new Date().toISOString(),
      studies: [studyA, studyB],
    });
  });
  afterAll(async () => {
    await c.close();
    await rm(dir, { recursive: true, force: true });
  });
  const as = (token: string, ...args: string[]) => run(['--url', c.url, '--token', token, ...args]);

  test('a researcher posts a query and waits; the result shows each site, <k for suppressed cells, ≥ for combined ones', async () => {
    const waiting = as(researcher, 'stats', 'query', '--study', studyA, '--file', file, '--wait', '--timeout', '60');
    // The sites answer while the CLI waits.
    let qid: string | undefined;
    while (!qid) {
      qid = (await c.store.listCohortQueries({ studyId: studyA }))[0]?.id;
      if (!qid) await new Promise((r) => setTimeout(r, 20));
    }
    expect((await a.request('PUT', routes.cohortAnswers(qid), { kind: 'table', table: tables.k10 })).status).toBe(201);
    expect((await b.request('PUT', routes.cohortAnswers(qid), { kind: 'table', table: tables.k20 })).status).toBe(201);
    const out = await waiting;
    expect(out.code).toBe(0);
    expect(out.stderr).toBe(`Posted cohort query ${qid}; waiting for the sites…\n`);
    const lines = out.stdout.split('\n');
    expect(lines.find((l) => l.startsWith('sites:'))).toMatch(/2 answered, 0 refused, 0 pending/);
    expect(lines.find((l) => l.startsWith('Beta'))).toMatch(/Beta\s+answered\s+20\s+1\s+2/);
    // Per site and combined: Alpha's 15 released, Beta's part suppressed, so the combined count is a lower bound.
    expect(lines.find((l) => /^yes\s/.test(l))).toMatch(/^yes\s+15\s+<k\s+≥15$/);
    expect(lines.find((l) => /^no\s/.test(l))).toMatch(/^no\s+25\s+<k\s+≥25$/);
    expect(out.stdout).toContain('TOTAL: Alpha 40, Beta 41; combined 81');
    expect(out.stdout).toContain('bmi pooled across sites');

    const show = await as(researcher, '--json', 'stats', 'show', qid);
    const r = JSON.parse(show.stdout) as CohortResult;
    expect(r.combined.cells[1]!.count).toEqual({ value: 15, atLeast: true, sites: 1, suppressedSites: 1 });
    const list = await as(c.operatorToken, 'stats', 'list', '--study', studyA);
    expect(list.stdout).toMatch(new RegExp(`${qid}\\s+${studyA}\\s+Smokers before the diabetes plan\\s+csv\\s+2\\s+0`));
  });

  test('a securely pooled query: the result says why its pool failed (2 tables < 3) and shows no per-site summary', async () => {
    const study = (await json<{ id: string }>(operator(c, 'POST', routes.studies, { name: 'Study S' }))).id;
    const secure = path.join(dir, 'secure.json');
    await writeFile(secure, JSON.stringify({ ...query, summaries: { ...query.summaries, pooled: 'secure' } }));
    const waiting = as(
      c.operatorToken,
      'stats',
      'query',
      '--study',
      study,
      '--file',
      secure,
      '--wait',
      '--timeout',
      '60',
    );
    let qid: string | undefined;
    while (!qid) {
      qid = (await c.store.listCohortQueries({ studyId: study }))[0]?.id;
      if (!qid) await new Promise((r) => setTimeout(r, 20));
    }
    // Counts only: under secure pooling a table carries no per-site summary.
    const countsOnly = (t: (typeof tables)[keyof typeof tables]) => ({
      ...t,
      cells: t.cells.map(({ levels, count }) => ({ levels, count })),
    });
    for (const [site, t] of [
      [a, tables.k10],
      [b, tables.k20],
    ] as const)
      expect(
        (await site.request('PUT', routes.cohortAnswers(qid), { kind: 'table', table: countsOnly(t) })).status,
      ).toBe(201);
    const out = await waiting;
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('secure pool: failed (COHORT_TOO_SMALL: 2 site(s) answered with a table');
    expect(out.stdout).toContain('bmi pooled securely');
    expect(out.stdout).not.toContain('bmi per site');
  });

  test('an invalid query file is refused locally with its problems (exit 2); --wait gives up with NOT_READY', async () => {
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ title: 'x', source: { kind: 'csv' }, counts: false }));
    const before = (await c.store.listCohortQueries()).length;
    const out = await as(researcher, 'stats', 'query', '--study', studyB, '--file', bad);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('(VALIDATION_FAILED)');
    expect(out.stderr).toContain('  - counts: ask for counts, summaries or both');
    expect((await c.store.listCohortQueries()).length).toBe(before);

    const late = await as(
      c.operatorToken,
      'stats',
      'query',
      '--study',
      studyB,
      '--file',
      file,
      '--wait',
      '--timeout',
      '1',
    );
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/2 site\(s\) did not answer within 1 s \(Alpha, Beta\).*\(NOT_READY\)/);
    expect(late.stdout).toContain('0 answered, 0 refused, 2 pending');
    // A researcher does not see hospitals outside its studies by name, only how many have not answered.
    const mine = await as(researcher, 'stats', 'query', '--study', studyB, '--file', file, '--wait', '--timeout', '1');
    expect(mine.stderr).toMatch(/2 site\(s\) did not answer within 1 s \(2 outside your studies\)/);
    const unknown = await as(researcher, 'stats', 'query', '--study', 'study-none', '--file', file);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('(UNKNOWN_STUDY)');
  });
});
