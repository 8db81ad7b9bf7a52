import { routes, type CurrentRound } from '@twinfed/shared';
import {
  baseWeights,
  enrollTestSite,
  json,
  operator,
  startTestCoordinator,
  testPlan,
  type TestSite,
} from '../__tests__/harness';
import { run, tableAfter } from './__tests__/harness';

type Coord = Awaited<ReturnType<typeof startTestCoordinator>>;

const HOSTILE = 'x\u001b]0;owned\u0007\u001b[2J\u009b31m';

describe('twinfed federations status against a real coordinator', () => {
  let c: Coord;
  let alpha: TestSite;
  let beta: TestSite;
  let gamma: TestSite;
  let fid: string;
  const op = (...args: string[]) => run(['--url', c.url, '--token', c.operatorToken, ...args]);
  const evaluate = async (site: TestSite, versionId: string, n: number, metrics: Record<string, number>) =>
    expect((await site.request('POST', routes.modelEvaluations(versionId), { n, metrics })).status).toBe(201);

  beforeAll(async () => {
    c = await startTestCoordinator();
    [alpha, beta, gamma] = [
      await enrollTestSite(c, 'Alpha'),
      await enrollTestSite(c, 'Beta'),
      await enrollTestSite(c, 'Gamma'),
    ];
    fid = (
      await json<{ id: string }>(
        operator(c, 'POST', routes.federations, { plan: testPlan({ rounds: 3, minSites: 3 }) }),
      )
    ).id;
    // Round 1: every site uploads, the coordinator publishes v1 and opens round 2.
    const cur = await json<CurrentRound>(alpha.request('GET', routes.currentRound(fid)));
    const base = await baseWeights(alpha, cur.round!.baseVersionId);
    for (const s of [alpha, beta, gamma]) {
      const bytes = s.seal({
        federationId: fid,
        round: 1,
        baseVersionId: cur.round!.baseVersionId,
        weights: base,
        numExamples: 10,
      });
      expect((await s.request('POST', routes.updates(fid, 1), bytes)).status).toBe(201);
    }
    expect((await json<{ latestVersionId: string }>(operator(c, 'GET', routes.federation(fid)))).latestVersionId).toBe(
      `${fid}.v1`,
    );
    await evaluate(alpha, `${fid}.v0`, 40, { accuracy: 0.5, auc: 0.6, loss: 0.7 });
    await evaluate(beta, `${fid}.v0`, 60, { accuracy: 0.7, auc: 0.8 });
    await evaluate(alpha, `${fid}.v1`, 40, { accuracy: 0.75, auc: 0.9 });
    await evaluate(beta, `${fid}.v1`, 60, { accuracy: 0.8 }); // single-class test set: no AUC
    // The API now refuses such a metric name (schemas/names); one stored before that, or by another coordinator, must still print harmlessly.
    expect(
      (await gamma.request('POST', routes.modelEvaluations(`${fid}.v1`), { n: 20, metrics: { [HOSTILE]: 1 } })).status,
    ).toBe(400);
    await c.store.putEvaluation({
      versionId: `${fid}.v1`,
      siteId: gamma.siteId,
      n: 20,
      metrics: { accuracy: 0.85, auc: 0.7, [HOSTILE]: 1 },
      createdAt: new Date().toISOString(),
    });
  });
  afterAll(async () => c.close());

  test('prints per round the version, how many sites evaluated it and the mean (min–max) of their accuracy and AUC', async () => {
    const r = await op('federations', 'status', fid);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(tableAfter(r.stdout, 'Rounds (')).toEqual([
      ['ROUND', 'STATE', 'RECEIVED', 'VERSION', 'EVALUATED', 'ACCURACY', 'AUC', 'FAILURE'],
      ['0', 'initial', '-', `${fid}.v0`, '2', '0.600 (0.500–0.700)', '0.700 (0.600–0.800)', '-'],
      ['1', 'published', '3/3', `${fid}.v1`, '3', '0.800 (0.750–0.850)', '0.800 (0.700–0.900); n/a: 1', '-'],
      ['2', 'open', '0/3', '-', '-', '-', '-', '-'],
    ]);
  });

  test('--sites adds each site × round with its accuracy/AUC', async () => {
    const r = await op('federations', 'status', fid, '--sites');
    expect(r.code).toBe(0);
    expect(tableAfter(r.stdout, 'Per site (')).toEqual([
      ['SITE', 'ID', 'R0', 'R1'],
      ['Alpha', alpha.siteId, '0.500/0.600', '0.750/0.900'],
      ['Beta', beta.siteId, '0.700/0.800', '0.800/n/a'],
      ['Gamma', gamma.siteId, '-', '0.850/0.700'],
    ]);
  });

  test('--json gives the same summaries, every metric the sites reported, and the sites’ values with --sites', async () => {
    const r = await op('--json', 'federations', 'status', fid, '--sites');
    expect(r.code).toBe(0);
    // eslint-disable-next-line no-control-regex -- the test asserts that no control character reaches the output
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    const out = JSON.parse(r.stdout) as {
      progress: Array<{
        round: number;
        evaluatedBy: number;
        metrics: Record<
          string,
          { mean: number | null; min: number | null; max: number | null; count: number; missing: number }
        >;
        sites: Array<{ siteId: string; name: string; metrics: Record<string, number> }>;
      }>;
    };
    expect(out.progress.map((p) => [p.round, p.evaluatedBy])).toEqual([
      [0, 2],
      [1, 3],
      [2, 0],
    ]);
    const v0 = out.progress[0]!.metrics;
    expect(v0.accuracy).toMatchObject({ min: 0.5, max: 0.7, count: 2, missing: 0 });
    expect(v0.accuracy!.mean).toBeCloseTo(0.6, 12);
    expect(v0.loss).toEqual({ mean: 0.7, min: 0.7, max: 0.7, count: 1, missing: 1 });
    const v1 = out.progress[1]!.metrics;
    expect(v1.auc).toMatchObject({ min: 0.7, max: 0.9, count: 2, missing: 1 });
    expect(v1.auc!.mean).toBeCloseTo(0.8, 12);
    expect(v1[HOSTILE]).toEqual({ mean: 1, min: 1, max: 1, count: 1, missing: 2 });
    expect(Object.fromEntries(out.progress[1]!.sites.map((s) => [s.name, [s.siteId, s.metrics.accuracy]]))).toEqual({
      Alpha: [alpha.siteId, 0.75],
      Beta: [beta.siteId, 0.8],
      Gamma: [gamma.siteId, 0.85],
    });
  });

  test('a metric name with terminal escape sequences prints harmlessly (models show)', async () => {
    const r = await op('models', 'show', `${fid}.v1`);
    expect(r.code).toBe(0);
    // eslint-disable-next-line no-control-regex -- the test asserts that no control character reaches the output
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(r.stdout).toContain('x\\x1b]0;owned\\x07\\x1b[2J\\x9b31m=1');
  });

  test('the evaluations route lists every version of the federation with its evaluations, for operators', async () => {
    const body = await json<{
      federationId: string;
      versions: Array<{ versionId: string; round: number; evaluations: Array<{ siteId: string }> }>;
    }>(operator(c, 'GET', routes.federationEvaluations(fid)));
    expect(body.federationId).toBe(fid);
    expect(body.versions.map((v) => [v.versionId, v.round, v.evaluations.length])).toEqual([
      [`${fid}.v0`, 0, 2],
      [`${fid}.v1`, 1, 3],
    ]);
    expect((await operator(c, 'GET', routes.federationEvaluations('fed-nope'))).status).toBe(404);
  });
});
