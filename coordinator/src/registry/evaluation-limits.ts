import { DEFAULT_MAX_EVALUATION_EXAMPLES, type Plan } from '@twinfed/shared';

/**
 * The most examples a site's evaluation of a version may claim: the plan's per-site maximum of examples
 * (`training.maxExamplesPerSite`) when the plan has one, {@link DEFAULT_MAX_EVALUATION_EXAMPLES} otherwise.
 * Read structurally, so it follows the plan field wherever the plan schema defines it.
 */
export function maxEvaluationExamples(plan: Plan): number {
  const perSite = (plan.training as { maxExamplesPerSite?: unknown }).maxExamplesPerSite;
  return typeof perSite === 'number' && Number.isInteger(perSite) && perSite > 0
    ? perSite
    : DEFAULT_MAX_EVALUATION_EXAMPLES;
}
