import { performance } from 'node:perf_hooks';
import { SeededRandom, TwinfedError } from '@twinfed/shared';
import { fedAvg, type ClientResult } from '@twinfed/coordinator';

/** Options of {@link benchAggregation}. */
interface AggregationBenchOptions {
  readonly sites: number;
  /** Parameters per model. */
  readonly size: number;
  /** Timed rounds per contender (after one untimed warm-up each). */
  readonly iterations: number;
  readonly seed?: number;
}

/** Throughput over the client weight bytes (sites × size × 4 per round), MiB/s. */
interface AggregationBenchResult {
  /** FedAvg through the Strategy API: validation, finiteness check, streaming fold, final mean and norms. */
  readonly fedavgMiBs: number;
  /** The bare loop over the same bytes: sum[i] += nᵢ·w[i] into a Float64Array, then one pass to float32. */
  readonly referenceMiBs: number;
  /** fedavgMiBs / referenceMiBs (1 = no overhead over the memory-bound loop). */
  readonly ratio: number;
  readonly bytesPerRound: number;
}

/**
 * Measures FedAvg aggregation against a bare typed-array weighted sum over the same client buffers in
 * the same run. The two alternate round by round so drift in machine load hits both.
 * Nothing here is asserted on in tests.
 */
export function benchAggregation(opts: AggregationBenchOptions): AggregationBenchResult {
  const rng = new SeededRandom(opts.seed ?? 7);
  const global = Float32Array.from({ length: opts.size }, () => rng.uniform(-1, 1));
  const results: ClientResult[] = Array.from({ length: opts.sites }, (_, s) => ({
    siteId: `site-${String(s).padStart(4, '0')}`,
    numExamples: 10 + rng.int(1000),
    weights: Float32Array.from(global, (g) => g + rng.uniform(-0.01, 0.01)),
  }));
  const strategy = fedAvg({ serverLr: 1 });
  const ctx = { round: 1, global, state: strategy.initialState(opts.size), seed: 1 };
  let sink = 0;

  const viaStrategy = (): void => {
    const acc = strategy.createAccumulator(ctx);
    for (const r of results) acc.add(r);
    sink += strategy.aggregate(ctx, acc, []).weights[0]!;
  };
  const reference = (): void => {
    const sum = new Float64Array(opts.size);
    let total = 0;
    for (const r of results) {
      const w = r.weights;
      const n = r.numExamples;
      for (let i = 0; i < w.length; i++) sum[i]! += n * w[i]!;
      total += n;
    }
    const out = new Float32Array(opts.size);
    for (let i = 0; i < out.length; i++) out[i] = sum[i]! / total;
    sink += out[0]!;
  };

  viaStrategy();
  reference();
  let tStrategy = 0;
  let tReference = 0;
  for (let k = 0; k < opts.iterations; k++) {
    let t0 = performance.now();
    viaStrategy();
    tStrategy += performance.now() - t0;
    t0 = performance.now();
    reference();
    tReference += performance.now() - t0;
  }
  if (Number.isNaN(sink)) throw new TwinfedError('INTERNAL', 'benchmark produced NaN');
  const bytesPerRound = opts.sites * opts.size * 4;
  const mib = (bytesPerRound * opts.iterations) / 2 ** 20;
  const fedavgMiBs = mib / (Math.max(tStrategy, 1e-6) / 1000);
  const referenceMiBs = mib / (Math.max(tReference, 1e-6) / 1000);
  return { fedavgMiBs, referenceMiBs, ratio: fedavgMiBs / referenceMiBs, bytesPerRound };
}
