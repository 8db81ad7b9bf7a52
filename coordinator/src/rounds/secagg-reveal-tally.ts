import type { SecaggGraph } from '@twinfed/shared';

/**
 * How many holders of each secret of a secure round have revealed: every taken reveal holds exactly its sender's
 * shares of its closed neighbourhood (its own seed and each neighbour's secret), so a revealer adds one to itself and
 * to each of its neighbours. Reveals are stored once and never removed, so the tally only grows: each unmasking
 * attempt counts the revealers it has not counted yet (O(k) each) instead of recounting every secret's holders
 * (O(n·k) per reveal, O(n²·k) per round).
 */
export class RevealTally {
  private readonly counted = new Set<string>();
  private readonly holders = new Map<string, number>();

  constructor(private readonly graph: SecaggGraph) {}

  /** Counts the revealers (members of U3) not counted yet. */
  add(revealers: Iterable<string>): void {
    for (const h of revealers) {
      if (this.counted.has(h)) continue;
      this.counted.add(h);
      this.holders.set(h, (this.holders.get(h) ?? 0) + 1);
      for (const v of this.graph.neighbours(h)) this.holders.set(v, (this.holders.get(v) ?? 0) + 1);
    }
  }

  /** The revealers counted. */
  get revealed(): number {
    return this.counted.size;
  }

  /**
   * Whether each secret has the graph's threshold of revealed holders: every survivor's seed (its neighbours and
   * itself) and every dropped site's mask key (its neighbours; a dropped site never reveals).
   */
  enough(u3: readonly string[], dropped: readonly string[]): boolean {
    const t = this.graph.threshold;
    return [...u3, ...dropped].every((v) => (this.holders.get(v) ?? 0) >= t);
  }
}
