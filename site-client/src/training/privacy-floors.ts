import { DEFAULT_MIN_CELL, TwinfedError, dpMechanism, planEpsilon, type Plan } from '@twinfed/shared';
import type { PrivacyFloors } from '../governance/policy';

export type { PrivacyFloors } from '../governance/policy';

/** One floor the plan is below, in words. */
interface Shortfall {
  floor: keyof PrivacyFloors;
  message: string;
}

/** How a site operator changes each floor (flag and environment variable). */
const HOW_TO_CHANGE: Record<keyof PrivacyFloors, string> = {
  requireSecureAggregation: '--require-secure-aggregation / TWINFED_REQUIRE_SECURE_AGGREGATION',
  requireDp: '--require-dp / TWINFED_REQUIRE_DP',
  maxEpsilon: '--max-epsilon / TWINFED_MAX_EPSILON',
  minPopulationK: '--min-population-k / TWINFED_MIN_POPULATION_K',
};

function shortfalls(plan: Plan, floors: PrivacyFloors): Shortfall[] {
  const out: Shortfall[] = [];
  if (floors.requireSecureAggregation && !plan.privacy.secureAggregation) {
    out.push({
      floor: 'requireSecureAggregation',
      message:
        'this site requires secure aggregation (privacy.requireSecureAggregation); the plan does not use it (privacy.secureAggregation)',
    });
  }
  if (floors.requireDp && !plan.privacy.dp) {
    out.push({
      floor: 'requireDp',
      message: 'this site requires differential privacy (privacy.requireDp); the plan has no privacy.dp',
    });
  }
  if (floors.maxEpsilon !== undefined) {
    const eps = planEpsilon(plan);
    if (eps === null) {
      out.push({
        floor: 'maxEpsilon',
        message: `this site allows at most ε = ${floors.maxEpsilon} (privacy.maxEpsilon); the plan has no differential privacy, so its ε is unbounded`,
      });
    } else if (eps > floors.maxEpsilon) {
      const dp = plan.privacy.dp!;
      const how = dpMechanism(plan) === 'skellam' ? 'distributed (Skellam) noise' : 'noise';
      out.push({
        floor: 'maxEpsilon',
        message: `this site allows at most ε = ${floors.maxEpsilon} (privacy.maxEpsilon); the plan's ${plan.rounds} rounds at ${how} ×${dp.noiseMultiplier} spend ε = ${eps.toFixed(2)} (δ = ${dp.delta})`,
      });
    }
  }
  if (floors.minPopulationK !== undefined) {
    const k = plan.data.population?.k ?? DEFAULT_MIN_CELL;
    if (k < floors.minPopulationK) {
      out.push({
        floor: 'minPopulationK',
        message: `this site suppresses population cells below k = ${floors.minPopulationK} at least (privacy.minPopulationK); the plan's population k = ${k}`,
      });
    }
  }
  return out;
}

/**
 * Refuses (`PLAN_BELOW_SITE_FLOOR`) a plan below any of the site's floors: the message names each floor, what the
 * plan has, and how to change the floor; `details` lists the floors. A site without floors accepts every plan.
 */
export function checkPrivacyFloors(plan: Plan, floors: PrivacyFloors, federationId: string): void {
  const below = shortfalls(plan, floors);
  if (below.length === 0) return;
  const how = below.map((b) => HOW_TO_CHANGE[b.floor]).join(', ');
  throw new TwinfedError(
    'PLAN_BELOW_SITE_FLOOR',
    `The plan of ${federationId} is below this site's privacy floors: ${below.map((b) => b.message).join('; ')}. This site will not train on it: ask the operator for a plan that meets them, or change the floor (${how}).`,
    { details: below.map((b) => ({ floor: b.floor })) },
  );
}
