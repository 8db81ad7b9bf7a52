import {
  deserializeWeights,
  gaussianDpEpsilon,
  routes,
  type CurrentRound,
  type FederationView,
  type PrivacyLedger,
  type WeightSet,
} from '@twinfed/shared';
import { enrollTestSite, json, operator, startTestCoordinator, testPlan, type TestSite } from '../__tests__/harness';

/**
 * The site-level privacy ledger over real federations: one without DP (Alpha, Beta), then two with central DP
 * (Alpha, Beta, Gamma), the second in another study. Each site is charged the ε its federations' latest versions are
 * signed with, composed by Σ ε, Σ δ; a researcher sees only its studies' federations; a site sees its own entry.
 */
describe('privacy ledger', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let alpha: TestSite;
  let beta: TestSite;
  let gamma: TestSite;
  let researcher: string;
  const dp = (noiseMultiplier: number) => ({ dp: { clip: 0.3, noiseMultiplier, delta: 1e-5 } });
  const eps = (noiseMultiplier: number) => gaussianDpEpsilon({ noiseMultiplier, releases: 1, delta: 1e-5 });
  let plain: string;
  let dpDefault: string;
  let dpOther: string;

  async function roundOne(plan: Record<string, unknown>, uploaders: TestSite[], study?: string): Promise<string> {
    const fid = (await json<{ id: string }>(operator(c, 'POST', routes.federations, { plan, study }))).id;
    const cur = await json<CurrentRound>(uploaders[0]!.request('GET', routes.currentRound(fid)));
    const base = deserializeWeights(
      new Uint8Array(
        await (await uploaders[0]!.request('GET', routes.modelWeights(cur.round!.baseVersionId))).arrayBuffer(),
      ),
    );
    const shifted = (w: WeightSet, by: number): WeightSet => ({ ...w, data: w.data.map((x) => x + by) });
    for (const [i, s] of uploaders.entries()) {
      const bytes = s.seal({
        federationId: fid,
        round: 1,
        baseVersionId: cur.round!.baseVersionId,
        weights: shifted(base, 0.01 * (i + 1)),
        numExamples: 40 + i,
        metrics: { loss: 0.5 },
      });
      expect((await s.request('POST', routes.updates(fid, 1), bytes)).status).toBe(201);
    }
    for (;;) {
      const f = await json<FederationView>(operator(c, 'GET', routes.federation(fid)));
      if (f.latestVersionId?.endsWith('.v1')) return fid;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  beforeAll(async () => {
    c = await startTestCoordinator();
    alpha = await enrollTestSite(c, 'Alpha');
    beta = await enrollTestSite(c, 'Beta');
    // Gamma enrolls after the plain federation is created: it is not in its cohort.
    plain = await roundOne(testPlan({ name: 'plain', rounds: 1 }), [alpha, beta]);
    gamma = await enrollTestSite(c, 'Gamma');
    dpDefault = await roundOne(testPlan({ name: 'dp default', rounds: 1, privacy: dp(1.1) }), [alpha, beta, gamma]);
    const study = await json<{ id: string }>(operator(c, 'POST', routes.studies, { name: 'other study' }));
    dpOther = await roundOne(testPlan({ name: 'dp other', rounds: 1, privacy: dp(2) }), [alpha, beta, gamma], study.id);
    researcher = (
      await json<{ token: string }>(
        operator(c, 'POST', routes.tokens, { name: 'ledger reader', role: 'researcher', studies: ['default'] }),
      )
    ).token;
  });
  afterAll(async () => c.close());

  const entry = (ledger: PrivacyLedger, site: TestSite) => ledger.sites.find((s) => s.siteId === site.siteId);

  test('an operator reads every site: ε and δ per federation, Σ ε and Σ δ, unbounded with a federation without DP', async () => {
    const ledger = await json<PrivacyLedger>(operator(c, 'GET', routes.privacyLedger));
    expect(ledger.composition).toBe('basic');
    expect(ledger.scope).toBe('all');
    expect(ledger.sites.map((s) => s.siteName)).toEqual(['Alpha', 'Beta', 'Gamma']);
    const g = entry(ledger, gamma)!;
    expect(g.federations.map((f) => [f.federationId, f.mechanism, f.releases, f.versionsContributed])).toEqual([
      [dpDefault, 'gaussian', 1, 1],
      [dpOther, 'gaussian', 1, 1],
    ]);
    expect(g.federations[0]!.epsilon).toBe(eps(1.1));
    expect(g.federations[0]!.plannedEpsilon).toBe(eps(1.1));
    expect(g.federations[1]!.epsilon).toBe(eps(2));
    expect(g.total.epsilon).toBeCloseTo(eps(1.1) + eps(2), 12);
    expect(g.total.delta).toBeCloseTo(2e-5, 15);
    expect(g.total.federationsWithoutDp).toBe(0);
    const a = entry(ledger, alpha)!;
    expect(a.federations.map((f) => [f.federationId, f.epsilon, f.delta])).toEqual([
      [plain, null, null],
      [dpDefault, eps(1.1), 1e-5],
      [dpOther, eps(2), 1e-5],
    ]);
    expect(a.total).toEqual({ epsilon: null, plannedEpsilon: null, delta: 2e-5, federationsWithoutDp: 1 });
  });

  test("a researcher reads only its studies' federations, and totals over them", async () => {
    const res = await fetch(c.url + routes.privacyLedger, { headers: { authorization: `Bearer ${researcher}` } });
    expect(res.status).toBe(200);
    const ledger = (await res.json()) as PrivacyLedger;
    expect(ledger.scope).toBe('studies');
    const g = entry(ledger, gamma)!;
    expect(g.federations.map((f) => f.federationId)).toEqual([dpDefault]);
    expect(g.total.epsilon).toBe(eps(1.1));
    expect(JSON.stringify(ledger)).not.toContain(dpOther);
  });

  test('a site reads its own entry over every federation it contributed to, and not the consortium ledger', async () => {
    const own = await json<PrivacyLedger>(gamma.request('GET', routes.sitePrivacy));
    expect(own.scope).toBe('site');
    expect(own.sites.map((s) => s.siteId)).toEqual([gamma.siteId]);
    expect(own.sites[0]!.total.epsilon).toBeCloseTo(eps(1.1) + eps(2), 12);
    expect((await gamma.request('GET', routes.privacyLedger)).status).toBe(403);
  });
});
