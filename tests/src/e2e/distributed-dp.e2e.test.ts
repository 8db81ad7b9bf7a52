import { DP_PUBLIC_METRICS } from '@twinfed/coordinator';
import {
  PlanSchema,
  deserializeWeights,
  fromB64,
  planDigest,
  planEpsilon,
  planEpsilonAfter,
  verifyModelVersion,
  type PlanInput,
} from '@twinfed/shared';
import { siteRunArgs, watchFederation } from '../demo/federation-run';
import { heartPlan } from '../demo/heart-plan';
import { siteCli } from '../support/paths';
import { startNode } from '../support/processes';
import { THREE_SITES, suiteConsortium } from './__tests__/consortium';

const planInput: PlanInput = {
  ...heartPlan({ rounds: 2, minSites: 3 }),
  name: 'heart-distributed-dp',
  strategy: { name: 'fedavg' },
  training: { steps: 30, batchSize: 4, optimizer: 'sgd', lr: 0.01 },
  privacy: { secureAggregation: true, dp: { clip: 0.5, noiseMultiplier: 2, delta: 1e-5 } },
};

/**
 * Distributed DP across processes: real `twinfed-site run` processes, each requiring secure aggregation, DP and a
 * maximum ε (checked locally with the Skellam accountant), clip, scale and noise their updates before masking; the
 * coordinator process unmasks only the noisy sum and publishes versions whose signed metadata carries ε, the
 * mechanism and the plan digest, and nothing per site.
 */
describe('distributed DP (secure aggregation + privacy.dp) across processes', () => {
  const suite = suiteConsortium('ddp', THREE_SITES);

  test('sites under ε floors train; every version is signed with the Skellam ε spent so far, the plan digest, and only public metrics', async () => {
    const plan = PlanSchema.parse(planInput);
    const total = planEpsilon(plan)!;
    const fed = await suite.c.admin.createFederation(plan);
    for (const s of THREE_SITES) {
      suite.c.sites.push(
        startNode({
          name: s.name,
          script: siteCli(),
          args: [
            ...siteRunArgs({ workDir: suite.workDir, site: s, federationId: fed.id }),
            '--require-secure-aggregation',
            '--require-dp',
            '--max-epsilon',
            String(Math.ceil(total)),
          ],
          env: { TWINFED_LOG_LEVEL: 'warn' },
        }),
      );
    }
    const done = await watchFederation(suite.c, { federationId: fed.id, timeoutMs: 180_000 });
    expect(done.federation.state).toBe('completed');
    expect(done.rounds.map((r) => r.state)).toEqual(['published', 'published']);

    const keys = await suite.c.admin.coordinatorKeys();
    const coordinatorSignPublicKey = fromB64(keys.signPublicKey);
    const base = deserializeWeights((await suite.c.admin.downloadWeights(`${fed.id}.v0`)).bytes).data;
    for (const round of [1, 2]) {
      const v = await suite.c.admin.getModel(`${fed.id}.v${round}`);
      const weights = await suite.c.admin.downloadWeights(v.id);
      const meta = verifyModelVersion({
        meta: v.meta,
        signature: v.signature,
        weightsBytes: weights.bytes,
        coordinatorSignPublicKey,
      });
      expect(meta).toMatchObject({
        dpMechanism: 'skellam',
        dpEpsilon: planEpsilonAfter(plan, round),
        planSha256: planDigest(plan),
      });
      expect(meta.metrics).toMatchObject({ dpRounds: round, clipNorm: 0.5, sites: 3, failures: 0 });
      expect(Object.keys(meta.metrics).filter((k) => !DP_PUBLIC_METRICS.has(k))).toEqual([]);
      expect('contributors' in meta && meta.contributors.map((x) => Object.keys(x))).toEqual([
        ['siteId'],
        ['siteId'],
        ['siteId'],
      ]);
      const data = deserializeWeights(weights.bytes).data;
      expect(data.every((w) => Number.isFinite(w))).toBe(true);
      if (round === 1) {
        // The fixed-point scale matched on both sides: the step is the clipped mean (≤ C) plus noise of the signed std, nothing wildly larger.
        const step = Math.max(...data.map((w, k) => Math.abs(w - base[k]!)));
        expect(step).toBeGreaterThan(0);
        expect(step).toBeLessThan(0.5 + 6 * meta.metrics.dpNoiseStd!);
        expect(meta.metrics.dpNoiseStd).toBeCloseTo((2 * 0.5) / 3, 9); // z·C/selected: three survivors of t = 3 add exactly μ
      }
    }
    expect(planEpsilonAfter(plan, 2)).toBe(total);
  }, 240_000);
});
