import {
  MAX_DP_NOISE_MULTIPLIER,
  MIN_DP_NOISE_MULTIPLIER,
  PlanSchema,
  ddpMeanNoiseStd,
  planDdpParameters,
  planEpsilon,
  secaggThreshold,
  type PlanInput,
} from '@twinfed/shared';
import { FLAMBY_METHODS, planFor } from '../flamby/methods';
import { CLIP_NORM } from '../byzantine/configs';

/** δ of every DP run of the bench. */
export const DDP_BENCH_DELTA = 1e-5;
/** The clip norm of every DP run: the honest 90th percentile of this plan's update norms (see the Byzantine bench). */
export const DDP_BENCH_CLIP = CLIP_NORM;
/** The ε targets the issue asks for. */
export const DDP_BENCH_EPSILONS: readonly number[] = [1, 3, 8];

/** A row of the bench: how the plan adds (or does not add) noise. */
export interface DdpMechanism {
  key: 'none' | 'central' | 'distributed' | 'distributed-t3';
  label: string;
  note: string;
}

export const DDP_MECHANISMS: readonly DdpMechanism[] = [
  { key: 'none', label: 'FedAvg, no DP', note: "the reference: FLamby's FedAvg plan without clipping or noise" },
  {
    key: 'central',
    label: 'central DP (Gaussian)',
    note: 'the coordinator clips each update and adds N(0, (zC/4)²) to the mean; exact GDP accounting',
  },
  {
    key: 'distributed',
    label: 'distributed DP (Skellam), t = 4',
    note: 'secure aggregation + privacy.dp, minSites 4 so t = 4: each site adds Sk(μ/4), all four must survive; Skellam RDP accounting',
  },
  {
    key: 'distributed-t3',
    label: 'distributed DP (Skellam), t = 3',
    note: 'the same with minSites 3, so t = 3 and one site may drop: each site adds Sk(μ/3), four survivors carry 4/3 of the noise needed',
  },
];

/** The plan of a bench run: FLamby's FedAvg (15 rounds × 100 SGD steps, batch 4, lr 0.001, four sites) with the mechanism's privacy at noise ×z. */
export function ddpBenchPlan(m: DdpMechanism['key'], seed: number, noiseMultiplier?: number): PlanInput {
  const base = {
    ...planFor(
      FLAMBY_METHODS.find((x) => x.key === 'fedavg')!,
      seed,
    ),
    name: `ddp-${m}-${seed}`,
  };
  if (m === 'none') return base;
  const dp = { clip: DDP_BENCH_CLIP, noiseMultiplier: noiseMultiplier ?? 1, delta: DDP_BENCH_DELTA };
  if (m === 'central') return { ...base, privacy: { dp } };
  return { ...base, minSites: m === 'distributed' ? 4 : 3, privacy: { secureAggregation: true, dp } };
}

/** The noise multiplier at which the mechanism's plan spends exactly `epsilon` over its rounds (bisection on the plan's own accountant). */
export function calibratedNoise(m: Exclude<DdpMechanism['key'], 'none'>, epsilon: number): number {
  const eps = (z: number) => planEpsilon(PlanSchema.parse(ddpBenchPlan(m, 42, z)))!;
  let lo = MIN_DP_NOISE_MULTIPLIER;
  let hi = MAX_DP_NOISE_MULTIPLIER;
  if (eps(hi) > epsilon || eps(lo) < epsilon)
    throw new Error(`ε = ${epsilon} is out of reach of noise ×[${lo}, ${hi}]`);
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (eps(mid) > epsilon) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The std of the noise added to each coordinate of the mean update per round (weight units), four sites selected and answering. */
export function meanNoiseStd(m: Exclude<DdpMechanism['key'], 'none'>, z: number): number {
  const plan = PlanSchema.parse(ddpBenchPlan(m, 42, z));
  if (m === 'central') return (z * DDP_BENCH_CLIP) / 4;
  return ddpMeanNoiseStd(planDdpParameters(plan)!, {
    survivors: 4,
    threshold: secaggThreshold(4, plan.minSites),
    selectedSites: 4,
  });
}
