/** Short human-readable lines about a plan, shared by `federations status` and `plan check`. */
import { dpMechanism, planEpsilon, requiresApprovals, type Plan } from '@twinfed/shared';

/** `logistic-regression (13 inputs)` or `mlp 13→32→16→1`. */
export function modelLine(model: Plan['model']): string {
  return model.kind === 'mlp' || model.kind === 'cox-mlp'
    ? `${model.kind} ${model.inputs}→${model.hidden.join('→')}→1`
    : `${model.kind} (${model.inputs} inputs)`;
}

/** The plan's DP settings and the ε all its rounds would spend (site-level; exact Gaussian accounting, or Skellam for distributed DP). */
export function dpLine(plan: Pick<Plan, 'privacy' | 'rounds' | 'model'>): string {
  const dp = plan.privacy.dp;
  if (!dp) return 'off';
  const eps = planEpsilon(plan)!;
  const kind = dpMechanism(plan) === 'skellam' ? 'distributed (Skellam, noise added by the sites), ' : '';
  return `${kind}clip ${dp.clip}, noise ×${dp.noiseMultiplier}, δ ${dp.delta}: ε ≤ ${eps.toFixed(2)} after ${plan.rounds} rounds`;
}

/** Whether rounds wait for the sites' approval of the plan (`governance.requireApprovals`), in words. */
export function governanceLine(plan: Pick<Plan, 'governance' | 'minSites'>): string {
  if (!requiresApprovals(plan)) return 'not required: sites that rejected or revoked this plan are not selected';
  const n = plan.minSites;
  return `required: a round opens only when at least ${n} site${n === 1 ? '' : 's'} approved this plan, and selects only among them`;
}

/** `100 steps of sgd, batch 32, lr 0.01`. */
export function trainingLine(t: Plan['training']): string {
  const amount = t.steps !== undefined ? `${t.steps} steps` : `${t.epochs} epoch${t.epochs === 1 ? '' : 's'}`;
  return `${amount} of ${t.optimizer}, batch ${t.batchSize}, lr ${t.lr}`;
}

/** `13 tabular features` or `6 features derived from twins (label rule condition-onset)`. */
export function dataLine(d: Plan['data']): string {
  const n = d.features.length;
  const kind = d.derive ? `derived from twins (label rule ${d.labelRule?.kind ?? 'stored'})` : 'tabular';
  return `${n} ${kind} feature${n === 1 ? '' : 's'}, label ${d.label}, ${d.normalization} normalisation, ≥ ${d.minExamplesPerSite} training rows per site`;
}

/**
 * Warnings about a valid plan, one line each: today, central DP without `maxEpsilon` (nothing caps the ε its rounds
 * spend). `plan check` and `federations create` print them on stderr, so stdout (and --json) stays the result.
 */
export function planWarnings(plan: Plan): string[] {
  const dp = plan.privacy.dp;
  if (!dp || dp.maxEpsilon !== undefined) return [];
  const eps = planEpsilon(plan)!;
  return [
    `warning: privacy.dp has no maxEpsilon: these ${plan.rounds} rounds spend ε = ${eps.toFixed(2)} (δ = ${dp.delta}) and nothing caps it; set privacy.dp.maxEpsilon to refuse plans that spend more.`,
  ];
}
