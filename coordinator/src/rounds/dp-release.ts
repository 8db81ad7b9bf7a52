import { TwinfedError, type Plan } from '@twinfed/shared';

/**
 * The metrics a DP federation's versions may publish beside ε: the plan's own parameters (`clipNorm`), the noise it
 * added (`dpNoiseStd`, a function of the plan and the round's selected count), how many releases ε covers (`dpRounds`)
 * and who took part (`sites`, `failures` — participation is not what DP hides here). Everything computed from the
 * sites' data without noise — training loss, example counts, the norm of the mean delta, how many sites were clipped —
 * would be a side channel beside the published ε, so it is dropped, and contributors are listed without their example
 * counts.
 */
export const DP_PUBLIC_METRICS: ReadonlySet<string> = new Set([
  'clipNorm',
  'dpNoiseStd',
  'dpRounds',
  'sites',
  'failures',
]);

/** What a version of `plan` publishes of a round's metrics and contributors (unchanged without DP). */
export function releasedRoundFacts(
  plan: Plan,
  facts: { metrics: Record<string, number>; contributors: ReadonlyArray<{ siteId: string; numExamples?: number }> },
): { metrics: Record<string, number>; contributors: Array<{ siteId: string; numExamples?: number }> } {
  if (!plan.privacy.dp) return { metrics: facts.metrics, contributors: [...facts.contributors] };
  return {
    metrics: Object.fromEntries(Object.entries(facts.metrics).filter(([k]) => DP_PUBLIC_METRICS.has(k))),
    contributors: facts.contributors.map((c) => ({ siteId: c.siteId })),
  };
}

/**
 * Throws `DP_NOT_COVERED` for a per-site evaluation of a DP federation's version: a site's n and metrics on its
 * held-out patients are exact numbers about them that ε does not cover, and researchers read every evaluation the
 * coordinator takes. (Sites of a DP federation keep their evaluations local and do not send them.)
 */
export function assertEvaluationTaken(plan: Plan): void {
  if (plan.privacy.dp) throw new TwinfedError('DP_NOT_COVERED');
}
