import { addAll, type Accumulator, type ClientResult, type RoundContext, type Strategy } from '../strategies';

/**
 * Results folded per pass when a round closes: the accumulator folds a batch in one blocked pass over its sum (see
 * strategies/weighted-fold.ts), and at most this many re-opened updates are in memory at once besides the sum.
 */
export const FOLD_BATCH = 16;

interface Entry {
  round: number;
  acc: Accumulator;
  /** The round's selected sites, sorted: the one order in which results are ever folded. */
  order: string[];
  /** order[0 … next) are folded. */
  next: number;
  /** Arrived, not yet folded: the decrypted result, or null when it did not fit the buffer (re-opened at close). */
  waiting: Map<string, ClientResult | null>;
  waitingBytes: number;
  /** Set once {@link AccumulatorCache.finish} began: what it did not find here it re-opens, so nothing more is folded. */
  finishing: boolean;
}

/** Sorts site ids the one way the engine orders them (UTF-16 code units; ids are ASCII). */
export function sortSiteIds(ids: Iterable<string>): string[] {
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The in-progress aggregate of each federation's current round, folded in **sorted site order** whatever
 * the arrival order, so a round aggregated live and one rebuilt from the store after a crash give
 * bit-identical weights (floating-point sums depend on their order).
 *
 * A result is folded as soon as every selected site before it (in sorted order) has been folded; results
 * that arrive early wait in memory (up to `bufferBytes`; beyond that they are re-opened from the store at
 * close). When the round closes, {@link AccumulatorCache.finish} folds what is left, still in sorted order.
 * With arrival in roughly sorted order memory stays O(model size). It is a cache: the encrypted envelopes
 * in the store are the truth.
 */
export class AccumulatorCache {
  private readonly entries = new Map<string, Entry>();
  /** Results whose update the store is taking ({@link received}), by federation, round and site. */
  private readonly storing = new Map<string, Promise<ClientResult | undefined>>();

  constructor(private readonly bufferBytes = 64 * 1024 * 1024) {}

  /** Offers one verified result of the federation's current round. */
  offer(opts: {
    federationId: string;
    strategy: Strategy;
    ctx: RoundContext;
    selected: readonly string[];
    result: ClientResult;
  }): void {
    this.fold(this.entryFor(opts), opts.result);
  }

  /**
   * A verified result whose update the store is taking (`stored`: true once it is stored, false when it was not taken):
   * offered to the round's accumulator (when it exists) as soon as it is stored. A close that begins before then waits
   * for it rather than re-opening it from the store: the store commits uploads in batches, so the round may be complete
   * in the store, and closed, while the last batch's uploads still wait for their acknowledgement.
   */
  received(federationId: string, round: number, result: ClientResult, stored: Promise<boolean>): void {
    const key = `${federationId}\n${round}\n${result.siteId}`;
    const settled = stored.then(
      (ok) => {
        if (this.storing.get(key) === settled) this.storing.delete(key);
        if (!ok) return undefined;
        this.add(federationId, round, result);
        return result;
      },
      () => {
        if (this.storing.get(key) === settled) this.storing.delete(key);
        return undefined;
      },
    );
    this.storing.set(key, settled);
  }

  /**
   * Offers a result to the federation's accumulator of `round` when it exists (then the caller needs no round context);
   * false when there is none yet (call {@link offer}).
   */
  add(federationId: string, round: number, result: ClientResult): boolean {
    const entry = this.entries.get(federationId);
    if (!entry || entry.round !== round) return false;
    this.fold(entry, result);
    return true;
  }

  private fold(entry: Entry, result: ClientResult): void {
    const { siteId } = result;
    if (entry.finishing || entry.waiting.has(siteId) || entry.order.indexOf(siteId) < entry.next) return;
    const bytes = result.weights.byteLength;
    const keep = entry.order[entry.next] === siteId || entry.waitingBytes + bytes <= this.bufferBytes;
    entry.waiting.set(siteId, keep ? result : null);
    if (keep) entry.waitingBytes += bytes;
    // The run of consecutive sorted sites now all here is folded as one batch.
    const ready: ClientResult[] = [];
    for (let k = entry.next; k < entry.order.length; k++) {
      const r = entry.waiting.get(entry.order[k]!);
      if (!r) break;
      ready.push(r);
    }
    if (ready.length > 0) this.foldReady(entry, ready);
  }

  /** Folds `ready` (the results at order[next …]) and forgets those the accumulator took, even when it rejects one. */
  private foldReady(entry: Entry, ready: readonly ClientResult[]): void {
    const before = entry.acc.siteIds.length;
    try {
      addAll(entry.acc, ready);
    } finally {
      for (const r of ready.slice(0, entry.acc.siteIds.length - before)) {
        entry.waiting.delete(r.siteId);
        entry.waitingBytes -= r.weights.byteLength;
        entry.next++;
      }
    }
  }

  /**
   * An accumulator holding exactly `answered`'s results, folded in sorted order: the cached prefix plus the
   * rest, re-opened through `load` when not in memory. Rebuilds from scratch when the cache cannot serve.
   */
  async finish(opts: {
    federationId: string;
    strategy: Strategy;
    ctx: RoundContext;
    selected: readonly string[];
    answered: readonly string[];
    load: (siteId: string) => Promise<ClientResult>;
  }): Promise<Accumulator> {
    const answered = sortSiteIds(new Set(opts.answered));
    const want = new Set(answered);
    let entry = this.entries.get(opts.federationId);
    if (!entry || entry.round !== opts.ctx.round || entry.order.slice(0, entry.next).some((s) => !want.has(s))) {
      this.entries.delete(opts.federationId);
      entry = this.entryFor(opts);
    }
    entry.finishing = true;
    const folded = new Set(entry.order.slice(0, entry.next));
    const rest = answered.filter((siteId) => !folded.has(siteId));
    for (let at = 0; at < rest.length; at += FOLD_BATCH) {
      const { waiting } = entry;
      const batch = await Promise.all(
        rest
          .slice(at, at + FOLD_BATCH)
          .map(
            async (siteId) =>
              waiting.get(siteId) ??
              (await this.storing.get(`${opts.federationId}\n${opts.ctx.round}\n${siteId}`)) ??
              opts.load(siteId),
          ),
      );
      addAll(entry.acc, batch);
    }
    entry.waiting.clear();
    entry.waitingBytes = 0;
    return entry.acc;
  }

  /** Forgets a federation's accumulator (after publication or failure) and releases its memory. */
  drop(federationId: string): void {
    this.entries.get(federationId)?.acc.release?.();
    this.entries.delete(federationId);
  }

  private entryFor(opts: {
    federationId: string;
    strategy: Strategy;
    ctx: RoundContext;
    selected: readonly string[];
  }): Entry {
    let entry = this.entries.get(opts.federationId);
    if (!entry || entry.round !== opts.ctx.round) {
      entry = {
        round: opts.ctx.round,
        acc: opts.strategy.createAccumulator(opts.ctx),
        order: sortSiteIds(new Set(opts.selected)),
        next: 0,
        waiting: new Map(),
        waitingBytes: 0,
        finishing: false,
      };
      this.entries.set(opts.federationId, entry);
    }
    return entry;
  }
}
