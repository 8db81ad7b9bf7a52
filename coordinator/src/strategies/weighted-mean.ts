import { TwinfedError } from '@twinfed/shared';
import { SiteLedger, checkContext } from './ledger';
import type { Accumulator, ClientFailure, ClientResult, MeanDelta, RoundContext } from './types';

/**
 * Streams the example-weighted sum Σ nᵢ·wᵢ into one Float64Array: O(model) memory whatever the number
 * of sites. Float64 because the sum of many float32 updates loses digits in float32 (and nᵢ·wᵢ is exact
 * in float64 for nᵢ < 2²⁹); the result is rounded to float32 once, at the end.
 * It sums weights, not deltas, so a fold reads only the incoming update: the delta is taken once in
 * {@link reduceWeightedMean}. A coordinate that no site changed yields a delta of exactly 0.
 */
export class WeightedMeanAccumulator implements Accumulator {
  readonly ledger: SiteLedger;
  readonly sum: Float64Array;

  constructor(ctx: RoundContext) {
    checkContext(ctx);
    this.ledger = new SiteLedger(ctx.global.length);
    this.sum = new Float64Array(ctx.global.length);
  }

  add(result: ClientResult): void {
    this.ledger.check(result);
    foldWeighted(this.sum, result.weights, result.numExamples);
    this.ledger.record(result);
  }

  get siteIds(): readonly string[] {
    return this.ledger.siteIds;
  }
}

/** sum[i] += factor · w[i]: the whole inner loop of FedAvg. */
function foldWeighted(sum: Float64Array, w: Float32Array, factor: number): void {
  for (let i = 0; i < w.length; i++) sum[i]! += factor * w[i]!;
}

/** Narrows an accumulator to the kind this module creates; throws `INTERNAL` on a foreign one. */
function asWeightedMean(acc: Accumulator, strategy: string): WeightedMeanAccumulator {
  if (!(acc instanceof WeightedMeanAccumulator)) {
    throw new TwinfedError('INTERNAL', `${strategy} was given an accumulator it did not create.`);
  }
  return acc;
}

/**
 * The example-weighted mean delta Δ = Σ nᵢ·wᵢ / Σ nᵢ − global (FLamby's aggregation), with the round
 * metrics (`sites`, `examples`, `failures`, `client.*`, `meanDeltaNorm`). Needs at least one result.
 */
export function reduceWeightedMean(opts: {
  ctx: RoundContext;
  acc: Accumulator;
  failures: readonly ClientFailure[];
  strategy: string;
}): MeanDelta {
  const acc = asWeightedMean(opts.acc, opts.strategy);
  acc.ledger.requireAtLeast(1, opts.strategy);
  const total = acc.ledger.totalExamples;
  const g = opts.ctx.global;
  const delta = new Float64Array(g.length);
  let squares = 0;
  for (let i = 0; i < g.length; i++) {
    const d = acc.sum[i]! / total - g[i]!;
    delta[i] = d;
    squares += d * d;
  }
  const metrics = acc.ledger.metrics(opts.failures);
  metrics.meanDeltaNorm = Math.sqrt(squares);
  return { delta, metrics, contributors: acc.ledger.sortedSites() };
}

/** global + lr·Δ, rounded to float32 once. */
export function applyDelta(global: Float32Array, delta: Float64Array, lr: number): Float32Array {
  const out = new Float32Array(global.length);
  for (let i = 0; i < global.length; i++) out[i] = global[i]! + lr * delta[i]!;
  return out;
}
