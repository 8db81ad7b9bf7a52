import {
  fromB64,
  maskContribution,
  normalizationStatsContext,
  routes,
  toB64,
  type CurrentRound,
  type StatsSession,
} from '@twinfed/shared';
import {
  baseWeights,
  enrollTestSite,
  json,
  operator,
  startTestCoordinator,
  testPlan,
  type TestSite,
} from '../__tests__/harness';
import { populationReport } from '../__tests__/population-report';

type Coord = Awaited<ReturnType<typeof startTestCoordinator>>;

const codeOf = async (res: Response) => ({
  status: res.status,
  code: ((await res.json()) as { error?: { code?: string } }).error?.code,
});

/**
 * Finding 5 of issue 10: a site that does not belong to a federation (enrolled after it was created and never
 * selected for one of its rounds) can neither write to it nor read it; members can, and a late site joins once a
 * round selects it.
 */
describe('federation membership of sites', () => {
  let c: Coord;
  let a: TestSite;
  let b: TestSite;
  let g: TestSite;
  let outsider: TestSite;
  let fid: string;
  let statsFid: string;
  let v0: string;

  beforeAll(async () => {
    c = await startTestCoordinator();
    a = await enrollTestSite(c, 'Alpha');
    b = await enrollTestSite(c, 'Beta');
    const fed = await json<{ id: string; latestVersionId: string }>(
      operator(c, 'POST', routes.federations, { plan: testPlan({ rounds: 3 }) }),
    );
    fid = fed.id;
    v0 = fed.latestVersionId;
    g = await enrollTestSite(c, 'Gamma'); // the statistics cohort needs three sites (a, b, g); fid's founders stay a, b
    statsFid = (
      await json<{ id: string }>(
        operator(c, 'POST', routes.federations, {
          plan: testPlan({ data: { features: ['a', 'b', 'c'], normalization: 'federated' } }),
        }),
      )
    ).id;
    outsider = await enrollTestSite(c, 'Outsider');
  });
  afterAll(async () => c.close());

  const refusedOutsider = async (res: Promise<Response>) =>
    expect(await codeOf(await res)).toEqual({ status: 403, code: 'NOT_A_MEMBER' });

  test('an outsider cannot read the federation, its round, its versions, weights or statistics', async () => {
    await refusedOutsider(outsider.request('GET', routes.federation(fid)));
    await refusedOutsider(outsider.request('GET', routes.currentRound(fid)));
    await refusedOutsider(outsider.request('GET', routes.model(v0)));
    await refusedOutsider(outsider.request('GET', routes.modelWeights(v0)));
    await refusedOutsider(outsider.request('GET', routes.federationStats(statsFid)));
    await refusedOutsider(outsider.request('GET', routes.federationRecalibration(fid)));
  });

  test('an outsider cannot write an evaluation, a population report, statistics or an update', async () => {
    await refusedOutsider(outsider.request('POST', routes.modelEvaluations(v0), { n: 1e9, metrics: { auc: 0.01 } }));
    await refusedOutsider(outsider.request('POST', routes.populationReports, populationReport(v0)));
    await refusedOutsider(outsider.request('POST', routes.federationStats(statsFid), { masked: 'AAAA' }));
    await refusedOutsider(outsider.request('POST', routes.federationRecalibration(fid), { masked: 'AAAA' }));
    const base = await baseWeights(a, v0);
    const bytes = outsider.seal({ federationId: fid, round: 1, baseVersionId: v0, weights: base, numExamples: 10 });
    await refusedOutsider(outsider.request('POST', routes.updates(fid, 1), bytes));
    expect(await c.store.listEvaluations(v0)).toEqual([]);
    expect(await c.store.listPopulationReports({ versionId: v0 })).toEqual([]);
    expect(await c.store.getUpdate(fid, 1, outsider.siteId)).toBeNull();
  });

  test('an unknown federation or version is still 404 for everyone', async () => {
    expect(await codeOf(await outsider.request('GET', routes.federation('fed-none')))).toEqual({
      status: 404,
      code: 'UNKNOWN_FEDERATION',
    });
    expect(await codeOf(await a.request('GET', routes.model('fed-none.v0')))).toEqual({
      status: 404,
      code: 'UNKNOWN_MODEL_VERSION',
    });
  });

  test('members read and write as before', async () => {
    expect((await a.request('GET', routes.federation(fid))).status).toBe(200);
    expect((await b.request('GET', routes.federationStats(statsFid))).status).toBe(200);
    expect(
      (await a.request('POST', routes.modelEvaluations(v0), { n: 50, metrics: { auc: 0.8, accuracy: 0.7, loss: 0.5 } }))
        .status,
    ).toBe(201);
    expect((await b.request('POST', routes.populationReports, populationReport(v0))).status).toBe(201);
  });

  test('evaluations are bounded: n at most the per-site cap, AUC and accuracy within [0, 1]', async () => {
    expect(
      await codeOf(await b.request('POST', routes.modelEvaluations(v0), { n: 1e9, metrics: { auc: 0.5 } })),
    ).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(
      await codeOf(await b.request('POST', routes.modelEvaluations(v0), { n: 10, metrics: { auc: 1.5 } })),
    ).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(
      await codeOf(await b.request('POST', routes.modelEvaluations(v0), { n: 10, metrics: { accuracy: -0.1 } })),
    ).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(
      await codeOf(await b.request('POST', routes.modelEvaluations(v0), { n: 10, metrics: { loss: -1 } })),
    ).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect((await c.store.listEvaluations(v0)).map((e) => e.siteId)).toEqual([a.siteId]);
  });

  test('a site enrolled after the federation started joins it when a round selects it', async () => {
    const base = await baseWeights(a, v0);
    for (const s of [a, b]) {
      const bytes = s.seal({ federationId: fid, round: 1, baseVersionId: v0, weights: base, numExamples: 10 });
      expect((await s.request('POST', routes.updates(fid, 1), bytes)).status).toBe(201);
    }
    const cur = await json<CurrentRound>(outsider.request('GET', routes.currentRound(fid)));
    expect(cur.round?.round).toBe(2);
    expect(cur.selected).toBe(true);
    expect((await outsider.request('GET', routes.modelWeights(cur.round!.baseVersionId))).status).toBe(200);
  });

  test('a late member of a federated-statistics federation reads the pooled sum but cannot contribute to it', async () => {
    const values = [
      [10, 5, -3, 100.5, 7, 9, 1200],
      [20, 8, 4, 250.25, 11, 12, 3300],
      [5, 1, 0, 40, 1, 2, 400],
    ];
    const cohort = (await json<StatsSession>(a.request('GET', routes.federationStats(statsFid)))).cohort;
    expect(cohort.map((m) => m.siteId)).toEqual([a.siteId, b.siteId, g.siteId].sort());
    for (const [i, s] of [a, b, g].entries()) {
      const masked = maskContribution({
        values: values[i]!,
        siteId: s.siteId,
        boxSecretKey: s.identity.box.secretKey,
        cohort: cohort.map((m) => ({ siteId: m.siteId, boxPublicKey: fromB64(m.boxPublicKey) })),
        context: normalizationStatsContext(statsFid),
      });
      expect((await s.request('POST', routes.federationStats(statsFid), { masked: toB64(masked) })).status).toBe(201);
    }
    await refusedOutsider(outsider.request('GET', routes.federationStats(statsFid)));
    const fed = await json<{ latestVersionId: string }>(a.request('GET', routes.federation(statsFid)));
    const base = await baseWeights(a, fed.latestVersionId);
    for (const s of [a, b, g]) {
      const bytes = s.seal({
        federationId: statsFid,
        round: 1,
        baseVersionId: fed.latestVersionId,
        weights: base,
        numExamples: 10,
      });
      expect((await s.request('POST', routes.updates(statsFid, 1), bytes)).status).toBe(201);
    }
    expect((await json<CurrentRound>(outsider.request('GET', routes.currentRound(statsFid)))).selected).toBe(true);
    expect((await json<StatsSession>(outsider.request('GET', routes.federationStats(statsFid)))).sum).not.toBeNull();
    expect(
      await codeOf(
        await outsider.request('POST', routes.federationStats(statsFid), { masked: toB64(new Uint8Array(56)) }),
      ),
    ).toEqual({ status: 403, code: 'FORBIDDEN' });
  });
});
