import {
  PlanSchema,
  ddpMeanNoiseStd,
  deserializeWeights,
  encodeDdpUpdate,
  maskUpdate,
  planDdpParameters,
  planDigest,
  planEpsilonAfter,
  ringToBytes64,
  routes,
  verifyModelVersion,
  type CurrentRound,
  type DdpParameters,
} from '@twinfed/shared';
import { enrollTestSite, json, operator, startTestCoordinator, testPlan, type TestSite } from '../__tests__/harness';
import { secaggSite } from './__tests__/secagg-site';
import { DP_PUBLIC_METRICS } from './dp-release';

/** A site of a distributed-DP round (round 1), by hand: its masked vector is the encoded, noised delta only (n = 1 in the header). */
function ddpSite(site: TestSite, fid: string, baseVersionId: string) {
  const hand = secaggSite(site, fid, baseVersionId);
  return {
    site,
    state: () => hand.state(1),
    share: () => hand.share(1),
    async upload(values: Float64Array) {
      const masked = ringToBytes64(
        maskUpdate({
          ...hand.ctx(1),
          values,
          siteId: site.siteId,
          survivors: await hand.survivors(1),
          fractionBits: 0,
        }),
      );
      return hand.postMasked(1, masked, { numExamples: 1, metrics: {} });
    },
    consistency: () => hand.consistency(1),
    reveal: () => hand.reveal(1),
  };
}

describe('distributed DP over real HTTP', () => {
  test('four selected, three upload: the version is base + serverLr · Σ clipped deltas ÷ 4 (fixed denominator), signed with the Skellam ε and nothing per site', async () => {
    const c = await startTestCoordinator();
    try {
      const planInput = testPlan({
        rounds: 1,
        minSites: 2,
        roundDeadlineSeconds: 6,
        strategy: { name: 'fedavg', serverLr: 0.5 },
        privacy: { secureAggregation: true, dp: { clip: 0.05, noiseMultiplier: 1, delta: 1e-5 } },
      });
      const plan = PlanSchema.parse(planInput);
      const params = planDdpParameters(plan)!;
      const sites: TestSite[] = [];
      for (let i = 0; i < 4; i++)
        sites.push(
          await enrollTestSite({ url: c.url, operatorToken: c.operatorToken }, `DDP ${String.fromCharCode(65 + i)}`),
        );
      const fed = await json<{ id: string }>(operator(c, 'POST', routes.federations, { plan: planInput }));
      const cur = await json<CurrentRound>(sites[0]!.request('GET', routes.currentRound(fed.id)));
      const baseVersion = cur.round!.baseVersionId;
      const base = deserializeWeights(
        new Uint8Array(await (await operator(c, 'GET', routes.modelWeights(baseVersion))).arrayBuffer()),
      ).data;
      const trained = (i: number) => Float32Array.from(base, (w, k) => w + 0.02 * (i + 1) * (k % 2 === 0 ? 1 : -1)); // norms 0.04, 0.08, 0.12: two clipped
      const ds = sites.map((s) => ddpSite(s, fed.id, baseVersion));
      for (const s of ds) expect((await s.share()).status).toBe(201);
      const { threshold } = await ds[0]!.state();
      expect(threshold).toBe(3);
      // Noise off (μ = 0) in this test only, so the decoded mean can be checked exactly; the sites' real noise is Sk(μ/t).
      const quiet: DdpParameters = { ...params, variance: 0 };
      const deltas = [0, 1, 2].map((i) =>
        encodeDdpUpdate({ trained: trained(i), base, params: quiet, threshold, uniform: () => 0.5 }),
      );
      for (const [i, e] of deltas.entries()) expect((await ds[i]!.upload(e.values)).status).toBe(201); // the fourth site never uploads
      for (let i = 0; i < 200 && (await ds[0]!.state()).phase !== 'unmasking'; i++)
        await new Promise((r) => setTimeout(r, 100));
      for (const s of ds.slice(0, 3)) expect((await s.consistency()).status).toBe(201);
      for (const s of ds.slice(0, 3)) expect((await s.reveal()).status).toBe(201);

      const vid = `${fed.id}.v1`;
      const got = deserializeWeights(
        new Uint8Array(await (await operator(c, 'GET', routes.modelWeights(vid))).arrayBuffer()),
      ).data;
      const clipped = (i: number) => {
        const d = Array.from(trained(i), (w, k) => w - base[k]!);
        const norm = Math.hypot(...d);
        return d.map((x) => x * Math.min(1, 0.05 / norm));
      };
      got.forEach((w, k) =>
        expect(Math.abs(w - (base[k]! + (0.5 * [0, 1, 2].reduce((a, i) => a + clipped(i)[k]!, 0)) / 4))).toBeLessThan(
          1e-6,
        ),
      );

      const v1 = await json<{ meta: Record<string, unknown>; signature: string }>(
        operator(c, 'GET', routes.model(vid)),
      );
      const coord = sites[0]!.coordinatorSignPublicKey;
      const meta = verifyModelVersion({ meta: v1.meta, signature: v1.signature, coordinatorSignPublicKey: coord });
      expect(meta).toMatchObject({
        dpMechanism: 'skellam',
        dpEpsilon: planEpsilonAfter(plan, 1),
        planSha256: planDigest(plan),
      });
      expect(meta.dpEpsilon).toBeGreaterThan(0);
      expect(Object.keys(meta.metrics).every((k) => DP_PUBLIC_METRICS.has(k))).toBe(true);
      expect(meta.metrics).toEqual({
        clipNorm: 0.05,
        dpNoiseStd: ddpMeanNoiseStd(params, { survivors: 3, threshold: 3, selectedSites: 4 }),
        dpRounds: 1,
        sites: 3,
        failures: 1,
      });
      expect('contributors' in meta && meta.contributors.every((x) => x.numExamples === undefined)).toBe(true);
      const v0 = await json<{ meta: Record<string, unknown> }>(operator(c, 'GET', routes.model(baseVersion)));
      expect(v0.meta).toMatchObject({ dpMechanism: 'skellam', dpEpsilon: 0 });
    } finally {
      await c.close();
    }
  }, 60_000);
});
