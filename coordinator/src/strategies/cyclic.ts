import { SeededRandom, TwinfedError } from '@twinfed/shared';
import { SiteLedger, checkContext, deltaNorm } from './ledger';
import { STREAM, mixSeed, sortedAvailable } from './selection';
import { decodeStateBytes, encodeStateBytes } from './state-codec';
import type { Accumulator, ClientResult, RoundContext, Strategy } from './types';

/**
 * The visiting order of one cycle: the sorted sites, reshuffled per cycle from (seed, cycle) unless
 * `deterministic`. Pure, so any coordinator process recomputes the same order from the round number.
 */
export function cycleOrder(opts: {
  sites: readonly string[];
  seed: number;
  cycle: number;
  deterministic: boolean;
}): string[] {
  const sorted = sortedAvailable(opts.sites);
  if (opts.deterministic) return sorted;
  return new SeededRandom(mixSeed({ seed: opts.seed, round: opts.cycle, stream: STREAM.cyclic })).shuffle(sorted);
}

/** Holds the one update of a cyclic round (a copy of its weights). */
class SingleResultAccumulator implements Accumulator {
  readonly ledger: SiteLedger;
  weights: Float32Array | undefined;

  constructor(ctx: RoundContext) {
    checkContext(ctx);
    this.ledger = new SiteLedger(ctx.global.length);
  }

  add(result: ClientResult): void {
    this.ledger.check(result);
    const first = this.ledger.siteIds[0];
    if (first !== undefined) {
      throw new TwinfedError('SITE_NOT_SELECTED', `A cyclic round takes one update; ${first} already sent it.`);
    }
    this.weights = result.weights.slice();
    this.ledger.record(result);
  }

  get siteIds(): readonly string[] {
    return this.ledger.siteIds;
  }
}

/**
 * Cyclic weight passing (a correct version, unlike FLamby's per-client copies; BENCHMARK.md §3): each
 * round exactly one site trains the current global model and its weights become the next global model.
 * Round r (from 1) picks position (r − 1) mod n of cycle ⌊(r − 1) / n⌋, n = the number of available
 * sites, so every site is visited once per cycle while the available set stays the same (if it changes
 * mid-cycle, a site can be skipped or visited twice in that cycle). Stateless; `minSites` is ignored
 * (a cyclic round has a quorum of one).
 */
export function cyclic(opts: { deterministic: boolean }): Strategy {
  return {
    name: 'cyclic',
    initialState: () => ({}),
    configureRound: (ctx) => {
      checkContext(ctx);
      const sites = sortedAvailable(ctx.available);
      if (sites.length === 0) throw new TwinfedError('NOT_READY', 'No site is available for the cyclic round.');
      const r = ctx.round - 1;
      const order = cycleOrder({
        sites,
        seed: ctx.seed,
        cycle: Math.floor(r / sites.length),
        deterministic: opts.deterministic,
      });
      return { selected: [order[r % sites.length]!], clientConfig: {} };
    },
    createAccumulator: (ctx) => new SingleResultAccumulator(ctx),
    aggregate: (ctx, acc, failures) => {
      if (!(acc instanceof SingleResultAccumulator))
        throw new TwinfedError('INTERNAL', 'cyclic was given an accumulator it did not create.');
      acc.ledger.requireAtLeast(1, 'cyclic');
      const weights = acc.weights!.slice();
      const metrics = acc.ledger.metrics(failures);
      metrics.updateNorm = deltaNorm(weights, ctx.global);
      return { weights, state: {}, metrics, contributors: acc.ledger.sortedSites() };
    },
    encodeState: (state) => encodeStateBytes(state),
    decodeState: (bytes, size) => decodeStateBytes(bytes, { expected: [], size }),
  };
}
