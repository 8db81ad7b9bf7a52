import { PlanSchema, planEpsilon, type PlanInput } from '@twinfed/shared';
import { DDP_BENCH_CLIP, DDP_BENCH_DELTA, calibratedNoise, ddpBenchPlan, meanNoiseStd } from '../ddp/configs';

/** The ε targets of the privacy–utility bench; `null` is ε = ∞ (no DP). */
export const PRIVACY_BENCH_EPSILONS: readonly (number | null)[] = [1, 3, 8, null];

/** With or without secure aggregation. */
export type Aggregation = 'plain' | 'secagg';
export const AGGREGATIONS: readonly Aggregation[] = ['plain', 'secagg'];

/** How the noise of a setting is added, for the table. */
export function mechanismLabel(aggregation: Aggregation, epsilon: number | null): string {
  if (epsilon === null) return aggregation === 'plain' ? 'none (FedAvg)' : 'none (FedAvg + secure aggregation)';
  return aggregation === 'plain'
    ? 'central DP: coordinator clips, adds Gaussian'
    : 'distributed DP: sites clip, add Skellam shares, masked';
}

/** What the accountant chose for one (aggregation, ε): the noise multiplier at the bench's clip, and what it spends. */
export interface Calibration {
  aggregation: Aggregation;
  epsilon: number | null;
  clip: number | null;
  noiseMultiplier: number | null;
  /** ε the plan's own accountant computes for its rounds at that noise (≤ the target, equal to 1e-9). */
  planEpsilon: number | null;
  delta: number | null;
  /** Std of the noise on each coordinate of the mean update per round, four sites (weight units). */
  meanNoiseStd: number | null;
}

const mechanismOf = (a: Aggregation) => (a === 'plain' ? 'central' : 'distributed');

/** The noise multiplier that makes the plan spend exactly ε over its rounds, by the plan's own accountant (bisection). */
export function calibrate(aggregation: Aggregation, epsilon: number | null): Calibration {
  if (epsilon === null)
    return {
      aggregation,
      epsilon,
      clip: null,
      noiseMultiplier: null,
      planEpsilon: null,
      delta: null,
      meanNoiseStd: null,
    };
  const z = calibratedNoise(mechanismOf(aggregation), epsilon);
  return {
    aggregation,
    epsilon,
    clip: DDP_BENCH_CLIP,
    noiseMultiplier: z,
    planEpsilon: planEpsilon(PlanSchema.parse(ddpBenchPlan(mechanismOf(aggregation), 42, z))),
    delta: DDP_BENCH_DELTA,
    meanNoiseStd: meanNoiseStd(mechanismOf(aggregation), z),
  };
}

/**
 * The plan of one run: FLamby's FedAvg on Fed-Heart-Disease (15 rounds × 100 SGD steps, batch 4, lr 0.001, the four
 * centres) with the calibration's DP. Without secure aggregation DP is central; with it, the product makes DP
 * distributed (the coordinator sees no single update to clip or noise), all four sites required (t = 4).
 */
export function privacyBenchPlan(c: Calibration, seed: number): PlanInput {
  if (c.noiseMultiplier === null) {
    const base = { ...ddpBenchPlan('none', seed), name: `privacy-${c.aggregation}-inf-${seed}` };
    return c.aggregation === 'plain' ? base : { ...base, privacy: { secureAggregation: true } };
  }
  return {
    ...ddpBenchPlan(mechanismOf(c.aggregation), seed, c.noiseMultiplier),
    name: `privacy-${c.aggregation}-eps${c.epsilon}-${seed}`,
  };
}
