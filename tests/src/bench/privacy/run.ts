import { PlanSchema, planEpsilon } from '@twinfed/shared';
import type { BenchConsortium } from '../flamby/consortium';
import { runBenchFederation } from '../flamby/federated';
import { benchSiteSeed } from '../flamby/methods';
import { privacyBenchPlan, type Calibration } from './configs';
import { SiteRecorder, pooledScores } from './pooled';
import type { PrivacyRun } from './report';

/**
 * One federation of the bench through the product (coordinator + four site runners), then the final version scored
 * on the pooled test rows of the four centres. Checks that the final version is signed with the plan's ε.
 */
export async function runPrivacyFederation(
  consortium: BenchConsortium,
  c: Calibration,
  seed: number,
): Promise<PrivacyRun & { pooledN: number }> {
  const started = Date.now();
  const plan = privacyBenchPlan(c, seed);
  const recorders = [0, 1, 2, 3].map(() => new SiteRecorder());
  const out = await runBenchFederation({
    consortium,
    plan,
    siteSeed: (center) => benchSiteSeed(seed, center),
    modelOps: (center) => recorders[center]!.ops,
    afterVersion: (center) => recorders[center]!.afterVersion,
    siteEvaluations: c.noiseMultiplier === null,
  });
  const last = out.versions[out.versions.length - 1];
  if (!last) throw new Error(`${plan.name}: no published version`);
  const meta = (await consortium.admin.getModel(last.versionId)).meta as { dpEpsilon?: number };
  const expected = planEpsilon(PlanSchema.parse(plan));
  if ((meta.dpEpsilon ?? null) !== expected)
    throw new Error(
      `${plan.name}: the final version is signed with ε = ${meta.dpEpsilon}, the plan spends ${expected}`,
    );
  const finals = recorders.map((r) => r.evaluationOf(last.versionId));
  // Without DP the sites also report their evaluations: the coordinator's record must be what the bench read.
  if (last.accuracy.length && last.accuracy.some((a, c) => a !== finals[c]!.accuracy))
    throw new Error(`${plan.name}: the sites' reported accuracies differ from their recorded evaluations`);
  const pooled = await pooledScores(finals);
  return {
    aggregation: c.aggregation,
    epsilon: c.epsilon,
    seed,
    pooledAccuracy: pooled.accuracy,
    pooledAuc: pooled.auc,
    pooledN: pooled.n,
    centreAccuracy: finals.map((f) => f.accuracy),
    signedEpsilon: meta.dpEpsilon ?? null,
    seconds: (Date.now() - started) / 1000,
  };
}
