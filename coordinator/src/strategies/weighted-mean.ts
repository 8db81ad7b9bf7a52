import { TwinfedError } from '@twinfed/shared';
import { SiteLedger, checkContext } from './ledger';
import type { Accumulator, ClientFailure, ClientResult, MeanDelta, RoundContext } from './types';
import type { FoldKernel } from './weighted-fold';
import { fastestFold } from './weighted-fold-simd';

/**
 * Streams the example-weighted sum Σ nᵢ·wᵢ into one Float64Array: O(model) memory whatever the number
 * of sites. Float64 because the sum of many float32 updates loses digits in float32 (and nᵢ·wᵢ is exact
 * in float64 for nᵢ < 2²⁹); the result is rounded to float32 once, at the end.
 * It sums weights, not deltas, so a fold reads only the incoming update: the delta is taken once in
 * {@link reduceWeightedMean}. A coordinate that no site changed yields a delta of exactly 0.
 * Updates that come together are folded together ({@link addMany}, see weighted-fold.ts and weighted-fold-simd.ts) into
 * a second buffer that becomes the sum once the batch proved finite, so a rejected update leaves the sum as it was
 * (2 × 8 bytes per parameter).
 */
export class WeightedMeanAccumulator implements Accumulator {
  readonly ledger: SiteLedger;
  private current: Float64Array;
  private spare: Float64Array;
  private readonly kernel: FoldKernel;
  private released = false;
  /** True until a fold succeeded: `current` then stands for all zeros whatever it holds (see {@link fold}). */
  private empty = true;

  /** `kernel` folds a batch: the fastest available one unless a test or benchmark picks one. */
  constructor(ctx: RoundContext, kernel: FoldKernel = fastestFold) {
    checkContext(ctx);
    this.ledger = new SiteLedger(ctx.global.length);
    this.kernel = kernel;
    // Mapped now (at the round's first upload) rather than during the first fold (at its close); in the kernel's own
    // memory when it has one, whose contents are then unspecified: the first fold reads no sum, and `sum` is zeroed
    // while nothing was folded.
    const n = ctx.global.length;
    [this.current, this.spare] = kernel.sums?.(n, this) ?? [new Float64Array(n).fill(0), new Float64Array(n).fill(0)];
  }

  /** Σ nᵢ·wᵢ over the results folded so far (until {@link release}: the memory is reused after). */
  get sum(): Float64Array {
    this.live();
    // Nothing folded yet: the buffer was never written by this accumulator (a pooled one holds an old sum).
    if (this.empty) this.current.fill(0);
    return this.current;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.kernel.release?.(this);
  }

  private live(): void {
    if (this.released) throw new TwinfedError('INTERNAL', 'The accumulator was used after its release.');
  }

  add(result: ClientResult): void {
    this.addMany([result]);
  }

  /** `add` on each result in order, in one blocked pass (bit-identical to one `add` after another). */
  addMany(results: readonly ClientResult[]): void {
    const checked = this.ledger.checkBatch(results);
    let error = checked.error;
    let batch = results.slice(0, checked.passed);
    if (!this.fold(batch)) {
      // Some weight is NaN or infinite: fold the results before the first such update, reject that one.
      let bad = 0;
      for (; bad < batch.length; bad++) {
        try {
          this.ledger.checkFinite(batch[bad]!);
        } catch (err) {
          if (!(err instanceof TwinfedError)) throw err;
          error = err;
          break;
        }
      }
      batch = batch.slice(0, bad);
      if (!this.fold(batch)) throw new TwinfedError('INTERNAL', 'A finite batch folded to a non-finite sum.');
    }
    for (const r of batch) this.ledger.record(r);
    if (error !== undefined) throw error;
  }

  get siteIds(): readonly string[] {
    return this.ledger.siteIds;
  }

  /**
   * Folds `batch` into the spare buffer and swaps it in; false (sum unchanged) when a weight is not finite. The first
   * fold does not read the sum it starts from: it is all zeros, which the kernel adds without loading them.
   */
  private fold(batch: readonly ClientResult[]): boolean {
    this.live();
    if (batch.length === 0) return true;
    const updates = batch.map((r) => ({ weights: r.weights, factor: r.numExamples }));
    if (!this.kernel(this.spare, this.empty ? null : this.current, updates)) return false;
    [this.current, this.spare] = [this.spare, this.current];
    this.empty = false;
    return true;
  }
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
  const sum = acc.sum;
  let squares = 0;
  for (let i = 0; i < g.length; i++) {
    const d = sum[i]! / total - g[i]!;
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
