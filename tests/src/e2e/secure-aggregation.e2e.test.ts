import { PlanSchema, deserializeWeights, type PlanInput } from '@twinfed/shared';
import { runFederation, watchFederation } from '../demo/federation-run';
import { heartPlan } from '../demo/heart-plan';
import { THREE_SITES, suiteConsortium } from './__tests__/consortium';

const plan = (secureAggregation: boolean): PlanInput => ({
  ...heartPlan({ rounds: 2, minSites: 3 }),
  name: secureAggregation ? 'heart-secure' : 'heart-plain',
  strategy: { name: 'fedavg' },
  training: { steps: 30, batchSize: 4, optimizer: 'sgd', lr: 0.01 },
  privacy: { secureAggregation },
});

/** Real site processes (twinfed-site run) against a real coordinator, with and without secure aggregation. */
describe('secure aggregation across processes', () => {
  const suite = suiteConsortium('secagg', THREE_SITES, { autoApprove: true }); // each site's policy approves every plan

  async function finalWeights(p: PlanInput): Promise<{ weights: Float32Array; metrics: Record<string, number> }> {
    const fed = await runFederation(suite.c, { workDir: suite.workDir, sites: THREE_SITES, plan: PlanSchema.parse(p) });
    const done = await watchFederation(suite.c, { federationId: fed.id, timeoutMs: 120_000 });
    expect(done.federation.state).toBe('completed');
    expect(done.rounds.map((r) => r.state)).toEqual(['published', 'published']);
    // Every site's evaluation of each round's base version arrived (with a secure round's key shares, or a plain
    // round's update), each from its own site.
    for (const r of done.rounds)
      expect((await suite.c.admin.listEvaluations(r.baseVersionId)).map((e) => e.siteId).sort()).toEqual(
        [...r.selectedSiteIds].sort(),
      );
    const vid = done.federation.latestVersionId!;
    const meta = await suite.c.admin.getModel(vid);
    return {
      weights: deserializeWeights((await suite.c.admin.downloadWeights(vid)).bytes).data,
      metrics: (meta.meta as { metrics: Record<string, number> }).metrics,
    };
  }

  test('the same sites and plan give the same global model, within fixed-point precision, with masked updates only', async () => {
    const plain = await finalWeights(plan(false));
    const secure = await finalWeights(plan(true));
    expect(secure.metrics).toMatchObject({ secureAggregation: 1, sites: 3, secaggDropped: 0 });
    expect(plain.metrics.secureAggregation).toBeUndefined();
    expect(secure.weights).toHaveLength(plain.weights.length);
    secure.weights.forEach((w, k) => expect(Math.abs(w - plain.weights[k]!)).toBeLessThan(1e-4));
  }, 240_000);
});
