import type { Accumulator, ClientResult, RoundContext, Strategy } from '../strategies';

interface Entry {
  round: number;
  acc: Accumulator;
  siteIds: Set<string>;
}

/**
 * The in-progress aggregate of each federation's current round. Updates are folded in as they arrive,
 * so memory stays O(model size) for streaming strategies. It is a cache: the encrypted envelopes in the
 * store are the truth, and {@link AccumulatorCache.ensure} rebuilds an entry from them after a restart.
 */
export class AccumulatorCache {
  private readonly entries = new Map<string, Entry>();

  /** Folds one result into the federation's current round (creating the accumulator on first use). */
  fold(opts: { federationId: string; strategy: Strategy; ctx: RoundContext; result: ClientResult }): void {
    const entry = this.entryFor(opts.federationId, opts.strategy, opts.ctx);
    if (entry.siteIds.has(opts.result.siteId)) return;
    entry.acc.add(opts.result);
    entry.siteIds.add(opts.result.siteId);
  }

  /**
   * Returns an accumulator holding exactly `siteIds`' results for the round, rebuilding it through
   * `load` (decrypting the stored envelopes) when the cache is missing or differs.
   */
  async ensure(opts: {
    federationId: string;
    strategy: Strategy;
    ctx: RoundContext;
    siteIds: string[];
    load: (siteId: string) => Promise<ClientResult>;
  }): Promise<Accumulator> {
    const cached = this.entries.get(opts.federationId);
    const want = new Set(opts.siteIds);
    if (cached && cached.round === opts.ctx.round && cached.siteIds.size === want.size && [...want].every((s) => cached.siteIds.has(s))) {
      return cached.acc;
    }
    this.entries.delete(opts.federationId);
    const entry = this.entryFor(opts.federationId, opts.strategy, opts.ctx);
    for (const siteId of [...want].sort()) {
      entry.acc.add(await opts.load(siteId));
      entry.siteIds.add(siteId);
    }
    return entry.acc;
  }

  /** Forgets a federation's accumulator (after publication or failure). */
  drop(federationId: string): void {
    this.entries.delete(federationId);
  }

  private entryFor(federationId: string, strategy: Strategy, ctx: RoundContext): Entry {
    let entry = this.entries.get(federationId);
    if (!entry || entry.round !== ctx.round) {
      entry = { round: ctx.round, acc: strategy.createAccumulator(ctx), siteIds: new Set() };
      this.entries.set(federationId, entry);
    }
    return entry;
  }
}
