import { HEART_DISEASE_FEATURES } from '@twinfed/models';
import type { PlanInput } from '@twinfed/shared';
import type { SitePolicy } from '@twinfed/site-client';
import type { RunSite } from './federation-run';

/** The four hospitals of UCI Heart Disease, as FLamby numbers them. */
export const HEART_SITES: RunSite[] = [
  { name: 'Cleveland', center: 0 },
  { name: 'Hungarian', center: 1 },
  { name: 'Switzerland', center: 2 },
  { name: 'VA-Long-Beach', center: 3 },
];

/**
 * The demo's federation plan: logistic regression over FLamby's 13 features, per-site z-scores,
 * FLamby's FedYogi hyperparameters (its best strategy on this task), 15 rounds × 100 local SGD steps of batch 4.
 */
export function heartPlan(opts: { rounds?: number; seed?: number; minSites?: number } = {}): PlanInput {
  return {
    name: 'fed-heart-disease',
    model: { kind: 'logistic-regression', inputs: HEART_DISEASE_FEATURES.length },
    data: { features: [...HEART_DISEASE_FEATURES], label: 'target', normalization: 'per-site' },
    strategy: { name: 'fedyogi', serverLr: 0.01, beta1: 0.9, beta2: 0.999, tau: 1e-8 },
    training: { steps: 100, batchSize: 4, optimizer: 'sgd', lr: 0.003162 },
    rounds: opts.rounds ?? 15,
    minSites: opts.minSites ?? 3,
    roundDeadlineSeconds: 120,
    seed: opts.seed ?? 42,
  };
}

/**
 * Each demo hospital's policy (docs/site-policy.md): the inputs and the outcome it agreed to share a model of, the
 * model kinds and mean-based strategies it accepts, at most 100 rounds, at least 3 hospitals in every round, no
 * population reports; plans within it are approved without a person (recorded in its audit chain as by policy).
 */
export const HEART_SITE_POLICY: SitePolicy = {
  allowedFeatures: [...HEART_DISEASE_FEATURES],
  allowedLabels: ['target'],
  allowedModelKinds: ['logistic-regression', 'mlp'],
  allowedStrategies: ['fedavg', 'fedprox', 'fedadam', 'fedyogi', 'fedadagrad'],
  maxRounds: 100,
  minSitesPerRound: 3,
  populationReports: { allowed: false },
  autoApprove: true,
};
