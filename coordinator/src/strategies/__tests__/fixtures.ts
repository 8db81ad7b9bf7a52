import type { AggregateResult, ClientFailure, ClientResult, RoundContext, Strategy, StrategyState } from '../types';

/** Test helpers for the strategies (not part of the build). */
export const f32 = (xs: readonly number[]): Float32Array => Float32Array.from(xs);

export function ctxOf(
  global: readonly number[] | Float32Array,
  opts: { round?: number; state?: StrategyState; seed?: number; selectedSites?: number } = {},
): RoundContext {
  const selected = opts.selectedSites === undefined ? {} : { selectedSites: opts.selectedSites };
  return {
    round: opts.round ?? 1,
    global: Float32Array.from(global),
    state: opts.state ?? {},
    seed: opts.seed ?? 42,
    ...selected,
  };
}

export function result(
  siteId: string,
  numExamples: number,
  weights: readonly number[] | Float32Array,
  metrics?: Record<string, number>,
): ClientResult {
  return { siteId, numExamples, weights: Float32Array.from(weights), ...(metrics ? { metrics } : {}) };
}

/** One round: a fresh accumulator, every result folded in order, then aggregate. */
export function runRound(
  strategy: Strategy,
  ctx: RoundContext,
  results: readonly ClientResult[],
  failures: readonly ClientFailure[] = [],
): AggregateResult {
  const acc = strategy.createAccumulator(ctx);
  for (const r of results) acc.add(r);
  return strategy.aggregate(ctx, acc, failures);
}

/** Element-wise |actual − expected| ≤ tol. */
export function expectClose(actual: ArrayLike<number>, expected: readonly number[], tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => {
    const a = actual[i]!;
    if (!(Math.abs(a - e) <= tol)) throw new Error(`element ${i}: got ${a}, expected ${e} (±${tol})`);
  });
}
