import { TwinfedError } from '@twinfed/shared';
import { deltaNorm } from './ledger';
import {
  type Accumulator,
  type ClientResult,
  type DeltaStrategy,
  type RoundContext,
  type Strategy,
  addAll,
  isDeltaStrategy,
} from './types';

/**
 * `weights` moved towards `global` so that ‖result − global‖₂ ≤ maxNorm; `weights` itself when it is
 * already within the bound. The scaled weights are rounded to float32 and re-measured: if rounding
 * pushed the norm over, the scale shrinks by a growing margin and is tried again, so the bound holds
 * exactly on the float32 result. Where float32 cannot express so small a move around these weights,
 * the result is `global` itself (a zero delta).
 */
export function clipUpdate(opts: { weights: Float32Array; global: Float32Array; maxNorm: number }): {
  weights: Float32Array;
  norm: number;
  clipped: boolean;
} {
  const { weights, global, maxNorm } = opts;
  const norm = deltaNorm(weights, global);
  if (!(norm > maxNorm)) return { weights, norm, clipped: false };
  let scale = maxNorm / norm;
  const out = new Float32Array(weights.length);
  for (let attempt = 0; attempt < 7; attempt++) {
    for (let i = 0; i < weights.length; i++) out[i] = global[i]! + scale * (weights[i]! - global[i]!);
    const got = deltaNorm(out, global);
    if (got <= maxNorm) return { weights: out, norm, clipped: true };
    scale *= (maxNorm / got) * (1 - 2 ** (3 * attempt - 20));
  }
  return { weights: global.slice(), norm, clipped: true };
}

/** Wraps another strategy's accumulator, clipping each update before it is folded in. */
class ClippingAccumulator implements Accumulator {
  clippedSites = 0;

  constructor(
    readonly inner: Accumulator,
    private readonly opts: { global: Float32Array; maxNorm: number },
  ) {}

  add(result: ClientResult): void {
    this.addMany([result]);
  }

  /** Clips each result, then hands them to the inner accumulator together; counts the clipped ones it folded. */
  addMany(results: readonly ClientResult[]): void {
    const { global, maxNorm } = this.opts;
    const prepared = results.map((result) => {
      // A wrong length or non-finite update goes through untouched: the inner accumulator rejects it.
      const measurable = result.weights.length === global.length && Number.isFinite(deltaNorm(result.weights, global));
      const c = measurable ? clipUpdate({ weights: result.weights, global, maxNorm }) : undefined;
      return c?.clipped ? { result: { ...result, weights: c.weights }, clipped: true } : { result, clipped: false };
    });
    const before = this.inner.siteIds.length;
    try {
      addAll(
        this.inner,
        prepared.map((p) => p.result),
      );
    } finally {
      const folded = prepared.slice(0, this.inner.siteIds.length - before);
      this.clippedSites += folded.filter((p) => p.clipped).length;
    }
  }

  get siteIds(): readonly string[] {
    return this.inner.siteIds;
  }
}

function unwrap(acc: Accumulator): ClippingAccumulator {
  if (!(acc instanceof ClippingAccumulator))
    throw new TwinfedError('INTERNAL', 'The clipping wrapper was given an accumulator it did not create.');
  return acc;
}

/**
 * Update-norm clipping as a wrapper: each client's delta wᵢ − global is scaled down to
 * L2 norm ≤ `maxNorm` before the inner strategy sees it. Everything else is the inner strategy's; a
 * {@link DeltaStrategy} stays one, so central DP can wrap the result. Adds metric `clippedSites`.
 */
export function withUpdateClipping<S extends Strategy>(
  inner: S,
  opts: { maxNorm: number },
): S extends DeltaStrategy ? DeltaStrategy : Strategy;
export function withUpdateClipping(inner: Strategy, opts: { maxNorm: number }): Strategy {
  if (!(opts.maxNorm > 0) || !Number.isFinite(opts.maxNorm))
    throw new TwinfedError('INVALID_PLAN', 'The clipping norm must be a positive number.');
  const extra = (acc: ClippingAccumulator) => ({ clippedSites: acc.clippedSites, clipNorm: opts.maxNorm });
  const base: Strategy = {
    name: inner.name,
    initialState: (size) => inner.initialState(size),
    configureRound: (ctx) => inner.configureRound(ctx),
    createAccumulator: (ctx: RoundContext) =>
      new ClippingAccumulator(inner.createAccumulator(ctx), { global: ctx.global, maxNorm: opts.maxNorm }),
    aggregate: (ctx, acc, failures) => {
      const own = unwrap(acc);
      const r = inner.aggregate(ctx, own.inner, failures);
      return { ...r, metrics: { ...r.metrics, ...extra(own) } };
    },
    encodeState: (state) => inner.encodeState(state),
    decodeState: (bytes, size) => inner.decodeState(bytes, size),
  };
  if (!isDeltaStrategy(inner)) return base;
  const delta: DeltaStrategy = {
    ...base,
    reduce: (ctx, acc, failures) => {
      const own = unwrap(acc);
      const mean = inner.reduce(ctx, own.inner, failures);
      return { ...mean, metrics: { ...mean.metrics, ...extra(own) } };
    },
    step: (ctx, mean) => inner.step(ctx, mean),
  };
  return delta;
}
