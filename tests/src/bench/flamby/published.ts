/**
 * FLamby's published Fed-Heart-Disease accuracies (owkin/FLamby `flamby/results/results_benchmark_fed_heart_disease/
 * heart_seed4{2..6}.csv`, as summarised in data BENCHMARK.md §4 and flamby_results_accuracy.csv): for each method,
 * for seeds 42..46, the accuracy on test centers 0..3. The paper's bar is the mean of these 20 values.
 */
export const FLAMBY_SEEDS = [42, 43, 44, 45, 46] as const;

/** Method → per seed (42..46) → accuracy on test centers 0..3. */
export const FLAMBY_ACCURACY: Readonly<Record<string, readonly (readonly number[])[]>> = {
  Pooled: [
    [0.798077, 0.764045, 0.75, 0.644444],
    [0.778846, 0.764045, 0.75, 0.644444],
    [0.788462, 0.764045, 0.75, 0.644444],
    [0.778846, 0.764045, 0.75, 0.644444],
    [0.769231, 0.764045, 0.75, 0.644444],
  ],
  'Local 0': [
    [0.730769, 0.752809, 0.6875, 0.666667],
    [0.75, 0.764045, 0.75, 0.666667],
    [0.730769, 0.752809, 0.625, 0.666667],
    [0.75, 0.764045, 0.8125, 0.666667],
    [0.769231, 0.764045, 0.75, 0.622222],
  ],
  'Local 1': [
    [0.75, 0.752809, 0.5, 0.511111],
    [0.730769, 0.741573, 0.5625, 0.488889],
    [0.769231, 0.752809, 0.5, 0.511111],
    [0.740385, 0.741573, 0.625, 0.488889],
    [0.740385, 0.741573, 0.4375, 0.488889],
  ],
  'Local 2': [
    [0.567308, 0.460674, 0.8125, 0.666667],
    [0.490385, 0.382022, 0.8125, 0.755556],
    [0.423077, 0.359551, 0.625, 0.577778],
    [0.471154, 0.393258, 0.8125, 0.666667],
    [0.451923, 0.359551, 0.5625, 0.688889],
  ],
  'Local 3': [
    [0.596154, 0.47191, 0.875, 0.755556],
    [0.538462, 0.449438, 0.75, 0.688889],
    [0.596154, 0.483146, 0.875, 0.666667],
    [0.548077, 0.460674, 0.6875, 0.644444],
    [0.605769, 0.47191, 0.8125, 0.755556],
  ],
  FedAvg: [
    [0.759615, 0.696629, 0.6875, 0.622222],
    [0.721154, 0.741573, 0.75, 0.666667],
    [0.740385, 0.752809, 0.5, 0.577778],
    [0.730769, 0.674157, 0.75, 0.622222],
    [0.701923, 0.730337, 0.5625, 0.711111],
  ],
  FedProx: [
    [0.759615, 0.696629, 0.6875, 0.622222],
    [0.721154, 0.741573, 0.75, 0.666667],
    [0.740385, 0.752809, 0.5, 0.577778],
    [0.730769, 0.674157, 0.75, 0.622222],
    [0.701923, 0.730337, 0.5625, 0.711111],
  ],
  Scaffold: [
    [0.75, 0.696629, 0.6875, 0.622222],
    [0.721154, 0.741573, 0.75, 0.666667],
    [0.740385, 0.752809, 0.5, 0.577778],
    [0.721154, 0.674157, 0.75, 0.622222],
    [0.701923, 0.730337, 0.5625, 0.711111],
  ],
  Cyclic: [
    [0.759615, 0.764045, 0.75, 0.622222],
    [0.759615, 0.741573, 0.75, 0.666667],
    [0.740385, 0.775281, 0.5625, 0.622222],
    [0.778846, 0.775281, 0.8125, 0.644444],
    [0.75, 0.752809, 0.6875, 0.644444],
  ],
  FedAdam: [
    [0.759615, 0.752809, 0.75, 0.622222],
    [0.721154, 0.730337, 0.75, 0.644444],
    [0.759615, 0.741573, 0.75, 0.733333],
    [0.759615, 0.730337, 0.75, 0.688889],
    [0.759615, 0.775281, 0.6875, 0.644444],
  ],
  FedYogi: [
    [0.759615, 0.764045, 0.75, 0.622222],
    [0.730769, 0.730337, 0.75, 0.666667],
    [0.769231, 0.752809, 0.75, 0.733333],
    [0.759615, 0.741573, 0.75, 0.688889],
    [0.778846, 0.775281, 0.6875, 0.666667],
  ],
  FedAdagrad: [
    [0.759615, 0.764045, 0.75, 0.622222],
    [0.730769, 0.730337, 0.75, 0.666667],
    [0.769231, 0.752809, 0.75, 0.733333],
    [0.759615, 0.741573, 0.75, 0.688889],
    [0.778846, 0.775281, 0.6875, 0.666667],
  ],
};

/** FLamby's published numbers for one method over the given seeds (default all five). */
interface Published {
  /** Mean accuracy per test center. */
  perCentre: number[];
  /** Mean of the 4-center averages (the paper's bar). */
  average: number;
}

/** Mean of FLamby's per-seed results of `method` over `seeds` (those FLamby ran); undefined for an unknown method. */
export function published(method: string, seeds: readonly number[] = FLAMBY_SEEDS): Published | undefined {
  const table = FLAMBY_ACCURACY[method];
  if (!table) return undefined;
  const picked = seeds
    .map((s) => FLAMBY_SEEDS.indexOf(s as (typeof FLAMBY_SEEDS)[number]))
    .filter((i) => i >= 0)
    .map((i) => table[i]!);
  if (picked.length === 0) return undefined;
  const perCentre = [0, 1, 2, 3].map((c) => picked.reduce((a, r) => a + r[c]!, 0) / picked.length);
  return { perCentre, average: perCentre.reduce((a, b) => a + b, 0) / 4 };
}
