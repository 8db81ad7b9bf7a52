import { deserializeWeights, routes, type CurrentRound, type FederationView, type WeightSet } from '@twinfed/shared';
import { DP_PUBLIC_METRICS } from '../rounds/dp-release';
import { enrollTestSite, json, operator, startTestCoordinator, testPlan, type TestSite } from '../__tests__/harness';

/**
 * Issue 16, finding 8: beside a published ε, a DP federation publishes nothing its ε does not cover. This walks every
 * field of what reaches a researcher — the signed version metadata and the evaluations — after a real round in which
 * the sites reported their example counts, training loss and steps and then evaluated the version.
 */
describe('what a DP federation publishes to researchers', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let sites: TestSite[];
  let researcher: string;

  beforeAll(async () => {
    c = await startTestCoordinator();
    sites = [await enrollTestSite(c, 'Alpha'), await enrollTestSite(c, 'Beta'), await enrollTestSite(c, 'Gamma')];
    researcher = (
      (await (
        await operator(c, 'POST', routes.tokens, { name: 'dp reader', role: 'researcher', studies: ['default'] })
      ).json()) as {
        token: string;
      }
    ).token;
  });
  afterAll(async () => c.close());

  const asResearcher = (p: string) => fetch(c.url + p, { headers: { authorization: `Bearer ${researcher}` } });

  async function roundOne(plan: Record<string, unknown>): Promise<{ fid: string; vid: string }> {
    const fid = (await json<{ id: string }>(operator(c, 'POST', routes.federations, { plan }))).id;
    const cur = await json<CurrentRound>(sites[0]!.request('GET', routes.currentRound(fid)));
    const base = deserializeWeights(
      new Uint8Array(
        await (await sites[0]!.request('GET', routes.modelWeights(cur.round!.baseVersionId))).arrayBuffer(),
      ),
    );
    const shifted = (w: WeightSet, by: number): WeightSet => ({ ...w, data: w.data.map((x) => x + by) });
    for (const [i, s] of sites.entries()) {
      const bytes = s.seal({
        federationId: fid,
        round: 1,
        baseVersionId: cur.round!.baseVersionId,
        weights: shifted(base, 0.01 * (i + 1)),
        numExamples: 40 + i,
        metrics: { trainLoss: 0.5 + i, loss: 0.5 + i, steps: 10 + i },
      });
      expect((await s.request('POST', routes.updates(fid, 1), bytes)).status).toBe(201);
    }
    for (;;) {
      const f = await json<FederationView>(operator(c, 'GET', routes.federation(fid)));
      if (f.latestVersionId?.endsWith('.v1')) return { fid, vid: f.latestVersionId };
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  test('version metadata: lineage, layout, digests, plan digest, ε and the DP parameters — no loss, example counts or clipping count', async () => {
    const { vid } = await roundOne(
      testPlan({ rounds: 1, privacy: { dp: { clip: 0.3, noiseMultiplier: 1.1, delta: 1e-5 } } }),
    );
    const v = await json<{ meta: Record<string, unknown> }>(asResearcher(routes.model(vid)));
    expect(Object.keys(v.meta).sort()).toEqual([
      'contributors',
      'createdAt',
      'dpEpsilon',
      'dpMechanism',
      'federationId',
      'layout',
      'metrics',
      'parentVersionId',
      'planSha256',
      'protocol',
      'round',
      'strategy',
      'versionId',
      'weightsSha256',
    ]);
    expect(Object.keys(v.meta.metrics as object).sort()).toEqual([...DP_PUBLIC_METRICS].sort());
    expect(v.meta.contributors).toEqual(
      sites.map((s) => ({ siteId: s.siteId })).sort((a, b) => (a.siteId < b.siteId ? -1 : 1)),
    );
    expect(v.meta.dpEpsilon).toEqual(expect.any(Number));
    expect(v.meta.dpMechanism).toBe('gaussian');
    // No number a site reported is anywhere in it.
    const text = JSON.stringify(v.meta);
    for (const reported of ['40', '41', '42', '0.5', '1.5', '2.5'])
      expect(text).not.toMatch(new RegExp(`[:,\\[]${reported.replace('.', '\\.')}[,}\\]]`));
  });

  test('evaluations: a per-site evaluation is not covered by ε, so the coordinator does not take one and researchers see none', async () => {
    const { fid, vid } = await roundOne(
      testPlan({ rounds: 1, privacy: { dp: { clip: 0.3, noiseMultiplier: 1.1, delta: 1e-5 } } }),
    );
    for (const s of sites) {
      const res = await s.request('POST', routes.modelEvaluations(vid), {
        n: 25,
        metrics: { auc: 0.8, accuracy: 0.7, loss: 0.5 },
      });
      expect(res.status).toBe(409);
      expect((await json<{ error: { code: string } }>(res)).error.code).toBe('DP_NOT_COVERED');
    }
    expect(await json<{ evaluations: unknown[] }>(asResearcher(routes.modelEvaluations(vid)))).toEqual({
      evaluations: [],
    });
    const byFederation = await json<{ versions: Array<{ evaluations: unknown[] }> }>(
      asResearcher(routes.federationEvaluations(fid)),
    );
    for (const x of byFederation.versions) expect(x.evaluations).toEqual([]);
    // Without DP the same evaluation is taken and shown (the control).
    const plain = await roundOne(testPlan({ rounds: 1 }));
    expect(
      (await sites[0]!.request('POST', routes.modelEvaluations(plain.vid), { n: 25, metrics: { auc: 0.8 } })).status,
    ).toBe(201);
    expect(
      (await json<{ evaluations: unknown[] }>(asResearcher(routes.modelEvaluations(plain.vid)))).evaluations,
    ).toHaveLength(1);
  });
});
