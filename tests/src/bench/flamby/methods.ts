import { HEART_DISEASE_FEATURES } from '@twinfed/models';
import type { PlanInput, StrategyConfig } from '@twinfed/shared';

/** FLamby's federated settings: 15 rounds × 100 local SGD steps of batch 4 (BENCHMARK.md §3). */
const FLAMBY_ROUNDS = 15;
const FLAMBY_LOCAL_STEPS = 100;
export const FLAMBY_BATCH = 4;

/** A federated method of the benchmark: a row label, the plan's strategy and the client learning rate. */
export interface FederatedMethod {
  /** Row label, FLamby's name where there is one. */
  method: string;
  /** Key for `--strategies`. */
  key: string;
  strategy: StrategyConfig;
  clientLr: number;
  rounds?: number;
  steps?: number;
  normalization?: 'per-site' | 'federated';
  /** FLamby row to compare with (absent for our own configurations, which are held to the Pooled row). */
  flamby?: string;
  /** Shown under the table for our own configurations. */
  note?: string;
}

const fedOpt = { beta1: 0.9, beta2: 0.999, tau: 1e-8 };

/** Every FLamby strategy with `config_heart_disease.json`'s hyperparameters (BENCHMARK.md §3 table). */
export const FLAMBY_METHODS: readonly FederatedMethod[] = [
  { method: 'FedAvg', key: 'fedavg', strategy: { name: 'fedavg', serverLr: 1 }, clientLr: 0.001, flamby: 'FedAvg' },
  {
    method: 'FedProx',
    key: 'fedprox',
    strategy: { name: 'fedprox', mu: 0.01, serverLr: 1 },
    clientLr: 0.001,
    flamby: 'FedProx',
  },
  {
    method: 'Scaffold',
    key: 'scaffold',
    strategy: { name: 'scaffold', serverLr: 1 },
    clientLr: 0.001,
    flamby: 'Scaffold',
  },
  {
    method: 'Cyclic',
    key: 'cyclic',
    strategy: { name: 'cyclic', deterministic: false },
    clientLr: 0.01,
    flamby: 'Cyclic',
  },
  {
    method: 'FedAdam',
    key: 'fedadam',
    strategy: { name: 'fedadam', serverLr: 0.01, ...fedOpt },
    clientLr: 0.01,
    flamby: 'FedAdam',
  },
  {
    method: 'FedYogi',
    key: 'fedyogi',
    strategy: { name: 'fedyogi', serverLr: 0.01, ...fedOpt },
    clientLr: 0.003162,
    flamby: 'FedYogi',
  },
  {
    method: 'FedAdagrad',
    key: 'fedadagrad',
    strategy: { name: 'fedadagrad', serverLr: 0.316228, ...fedOpt },
    clientLr: 0.003162,
    flamby: 'FedAdagrad',
  },
];

/** The federation plan of a method for one benchmark seed (the seed fixes the shared initial model). */
export function planFor(m: FederatedMethod, seed: number): PlanInput {
  return {
    name: `flamby-heart-${m.key}-${seed}`,
    model: { kind: 'logistic-regression', inputs: HEART_DISEASE_FEATURES.length },
    data: { features: [...HEART_DISEASE_FEATURES], label: 'target', normalization: m.normalization ?? 'per-site' },
    strategy: m.strategy,
    training: { steps: m.steps ?? FLAMBY_LOCAL_STEPS, batchSize: FLAMBY_BATCH, optimizer: 'sgd', lr: m.clientLr },
    rounds: m.rounds ?? FLAMBY_ROUNDS,
    minSites: m.strategy.name === 'cyclic' ? 1 : 4,
    roundDeadlineSeconds: 600,
    seed,
  };
}

/** The trainer seed of a center's site in a benchmark seed's run (independent of the random site ids). */
export function benchSiteSeed(seed: number, center: number): number {
  return (Math.imul(seed >>> 0, 1_000_003) + 7919 * (center + 1)) >>> 0;
}

/** Our own configurations beyond FLamby's table, each held to FLamby's Pooled average (0.735) within 0.01. */
export const BEYOND_METHODS: readonly FederatedMethod[] = [
  {
    method: 'FedYogi + federated z-score',
    key: 'fedyogi-fednorm',
    strategy: { name: 'fedyogi', serverLr: 0.01, ...fedOpt },
    clientLr: 0.003162,
    normalization: 'federated',
    note:
      "FLamby's FedYogi settings (15 rounds × 100 steps), but every site z-scores with the cohort's pooled statistics instead of its own: " +
      'each site sends only its masked [n, Σx, Σx²] per feature (pairwise X25519 masks that cancel in the sum; the coordinator stores masked vectors and ' +
      'learns only the cohort total), then trains and evaluates its own test rows with the pooled mean/std. No patient row leaves a site. Held to ' +
      "FLamby's Pooled average: at least 0.735 − 0.01.",
  },
];
