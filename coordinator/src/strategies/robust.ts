import { type StrategyName, TwinfedError } from '@twinfed/shared';
import { SiteLedger, checkContext, deltaNorm } from './ledger';
import { selectSites } from './selection';
import { decodeStateBytes, encodeStateBytes, zeroState } from './state-codec';
import type { Accumulator, ClientResult, RoundContext, Strategy, StrategyState } from './types';

/** One kept update. */
export interface KeptUpdate {
  readonly siteId: string;
  readonly numExamples: number;
  readonly weights: Float32Array;
}

/**
 * Keeps every update (a copy of its weights): robust rules need all of them at once, so memory is
 * O(sites × model), unlike the streaming mean. `sorted()` returns them by site id, so the result never
 * depends on arrival order.
 */
class KeepAllAccumulator implements Accumulator {
  readonly ledger: SiteLedger;
  private readonly kept: KeptUpdate[] = [];

  constructor(ctx: RoundContext) {
    checkContext(ctx);
    this.ledger = new SiteLedger(ctx.global.length);
  }

  add(result: ClientResult): void {
    this.ledger.check(result);
    this.kept.push({ siteId: result.siteId, numExamples: result.numExamples, weights: result.weights.slice() });
    this.ledger.record(result);
  }

  get siteIds(): readonly string[] {
    return this.ledger.siteIds;
  }

  sorted(): KeptUpdate[] {
    return [...this.kept].sort((a, b) => (a.siteId < b.siteId ? -1 : a.siteId > b.siteId ? 1 : 0));
  }
}

/**
 * How a robust rule turns the kept updates (sorted by site) into weights and its own metrics. A rule with state
 * (see `stateNames` of {@link robustStrategy}) reads it from `ctx.state` and returns the next one.
 */
type RobustRule = (
  updates: readonly KeptUpdate[],
  ctx: RoundContext,
) => {
  weights: Float32Array;
  contributors: string[];
  metrics?: Record<string, number>;
  state?: StrategyState;
};

/**
 * A strategy over all kept updates: all available sites, then `rule` (needs ≥ `minResults`). Stateless unless
 * `stateNames` names Float64 vectors of model size (zero before round 1) that the rule carries from round to round.
 */
export function robustStrategy(opts: {
  name: StrategyName;
  minResults: number;
  rule: RobustRule;
  stateNames?: readonly string[];
}): Strategy {
  const stateNames = opts.stateNames ?? [];
  return {
    name: opts.name,
    initialState: (size) => zeroState(stateNames, size),
    configureRound: (ctx) => ({ selected: selectSites(ctx), clientConfig: {} }),
    createAccumulator: (ctx) => new KeepAllAccumulator(ctx),
    aggregate: (ctx, acc, failures) => {
      checkContext(ctx);
      if (!(acc instanceof KeepAllAccumulator))
        throw new TwinfedError('INTERNAL', `${opts.name} was given an accumulator it did not create.`);
      acc.ledger.requireAtLeast(opts.minResults, opts.name);
      const { weights, contributors, metrics, state } = opts.rule(acc.sorted(), ctx);
      const all = { ...acc.ledger.metrics(failures), ...metrics, updateNorm: deltaNorm(weights, ctx.global) };
      return { weights, state: state ?? {}, metrics: all, contributors: [...contributors].sort() };
    },
    encodeState: (state) => encodeStateBytes(state),
    decodeState: (bytes, size) => decodeStateBytes(bytes, { expected: stateNames, size }),
  };
}

/**
 * Applies `reduce` to every coordinate's values across updates, sorted ascending (float64 scratch,
 * insertion sort: n is a handful of sites). Unweighted: robust rules give every site one vote.
 */
export function coordinateWise(updates: readonly KeptUpdate[], reduce: (sorted: Float64Array) => number): Float32Array {
  const n = updates.length;
  const size = updates[0]?.weights.length ?? 0;
  const out = new Float32Array(size);
  const col = new Float64Array(n);
  const arrays = updates.map((u) => u.weights);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < n; i++) {
      const x = arrays[i]![j]!;
      let k = i - 1;
      while (k >= 0 && col[k]! > x) {
        col[k + 1] = col[k]!;
        k--;
      }
      col[k + 1] = x;
    }
    out[j] = reduce(col);
  }
  return out;
}

/** Median of an ascending array (mean of the two middle values when the count is even). */
export function sortedMedian(s: Float64Array): number {
  const n = s.length;
  const h = n >> 1;
  return n % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** Mean of an ascending array after dropping ⌊beta·n⌋ values at each end (scipy's trim_mean convention). */
function sortedTrimmedMean(s: Float64Array, beta: number): number {
  const cut = Math.floor(beta * s.length);
  let sum = 0;
  for (let i = cut; i < s.length - cut; i++) sum += s[i]!;
  return sum / (s.length - 2 * cut);
}

/** FedMedian (Yin et al. 2018): the coordinate-wise median of the client weights. */
export function fedMedian(): Strategy {
  return robustStrategy({
    name: 'fedmedian',
    minResults: 1,
    rule: (u) => ({ weights: coordinateWise(u, sortedMedian), contributors: u.map((x) => x.siteId) }),
  });
}

/** FedTrimmedAvg (Yin et al. 2018): per coordinate, drop the ⌊beta·n⌋ smallest and largest values, average the rest. */
export function fedTrimmedAvg(opts: { beta: number }): Strategy {
  if (!(opts.beta >= 0 && opts.beta < 0.5))
    throw new TwinfedError('INVALID_PLAN', 'fedtrimmedavg needs 0 ≤ beta < 0.5.');
  return robustStrategy({
    name: 'fedtrimmedavg',
    minResults: 1,
    rule: (u) => ({
      weights: coordinateWise(u, (s) => sortedTrimmedMean(s, opts.beta)),
      contributors: u.map((x) => x.siteId),
      metrics: { trimmedPerSide: Math.floor(opts.beta * u.length) },
    }),
  });
}
