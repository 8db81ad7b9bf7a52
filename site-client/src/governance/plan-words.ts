/**
 * A federation's plan in words, for the person who decides whether it may run on this site's data
 * (`twinfed-site plans show`): what is trained on which inputs, how, for how long, with which privacy, and what
 * leaves the site each round.
 */
import { dpMechanism, planEpsilon, type Plan } from '@twinfed/shared';
import { effectivePopulationK, type SitePolicy } from './policy';

/** One aspect of the plan: a short label and what the plan says. */
interface PlanFact {
  label: string;
  text: string;
}

/** The plan's facts, in the order `plans show` prints them. */
interface PlanInWords {
  facts: PlanFact[];
  /** What leaves the site, one item per line. */
  leaves: string[];
}

function modelText(plan: Plan): string {
  const m = plan.model;
  if (m.kind === 'logistic-regression') return `logistic regression over ${m.inputs} inputs`;
  if (m.kind === 'cox')
    return `Cox proportional hazards, linear over ${m.inputs} inputs (risk within ${m.horizonDays} days; ${m.ties} ties)`;
  const mlp = `multi-layer perceptron over ${m.inputs} inputs (hidden layers ${m.hidden.join(', ')}; ${m.activation})`;
  if (m.kind === 'cox-mlp')
    return `Cox proportional hazards with a ${mlp} risk score (risk within ${m.horizonDays} days; ${m.ties} ties)`;
  return mlp;
}

function privacyTexts(plan: Plan): { secure: string; dp: string } {
  const secure = plan.privacy.secureAggregation
    ? 'yes: updates are masked, the coordinator learns only their sum over the round'
    : 'no: the coordinator decrypts each site’s update';
  const dp = plan.privacy.dp;
  if (!dp) return { secure, dp: 'none (the ε budget is unbounded)' };
  const eps = planEpsilon(plan)!;
  const how =
    dpMechanism(plan) === 'skellam'
      ? 'distributed: each site adds its share of Skellam noise before masking'
      : 'central: the coordinator clips each update and adds Gaussian noise to the aggregate';
  return {
    secure,
    dp: `ε = ${eps.toFixed(2)} over all ${plan.rounds} rounds (δ = ${dp.delta}; clip ${dp.clip}, noise ×${dp.noiseMultiplier}; ${how})`,
  };
}

/** The plan in words, with the population k this site applies under `policy`. */
export function planInWords(plan: Plan, policy: SitePolicy): PlanInWords {
  const { secure, dp } = privacyTexts(plan);
  const features = plan.data.derive
    ? `${plan.data.features.join(', ')} (derived from the twin store)`
    : plan.data.features.join(', ');
  const facts: PlanFact[] = [
    { label: 'model', text: modelText(plan) },
    { label: 'features', text: `${plan.data.features.length}: ${features}` },
    { label: 'label', text: plan.data.label },
    { label: 'strategy', text: plan.strategy.name },
    { label: 'rounds', text: String(plan.rounds) },
    {
      label: 'minSites',
      text: `${plan.minSites} (the fewest sites whose updates a round aggregates)${plan.sitesPerRound !== undefined ? `; ${plan.sitesPerRound} selected per round` : ''}`,
    },
    { label: 'secure aggregation', text: secure },
    { label: 'differential privacy', text: dp },
  ];
  const leaves = [
    plan.privacy.secureAggregation
      ? 'an encrypted, signed weight update when selected for a round, masked so that only the sum is ever seen'
      : 'an encrypted, signed weight update when selected for a round (encrypted to the coordinator)',
    plan.privacy.dp
      ? 'no per-site evaluation metrics (under differential privacy they stay here)'
      : 'evaluation metrics of each published model version on this site’s held-out rows (counts and scores, no rows)',
  ];
  if (plan.data.normalization === 'federated')
    leaves.push('once, before round 1: masked feature sums and counts for the pooled normalisation (a secure sum)');
  const population = plan.data.population;
  if (population) {
    const k = effectivePopulationK(plan, policy);
    const kText = k > population.k ? `k = ${k} (this site's own; the plan's k is ${population.k})` : `k = ${k}`;
    leaves.push(
      `with --twins, a population report per version: counts of scored twins per risk tier × age band, cells below ${kText} suppressed${population.epsilon !== undefined ? `, Laplace noise ε = ${population.epsilon}` : ', exact counts otherwise'}`,
    );
  }
  return { facts, leaves };
}
