interface Entry {
  round: number;
  sites: Set<string>;
  /** True once the stored updates were read (before that `sites` holds only what arrived since). */
  loaded: boolean;
}

/**
 * Which sites have an update stored in each federation's current round, so that a poll of `rounds/current`
 * costs no envelope reads. Filled from the store on first use after a start, then kept up to date by the
 * upload path (this process is the only writer of updates); a poll never misses an update that was stored
 * while the cache was being filled, because both are merged.
 */
export class AnsweredCache {
  private readonly entries = new Map<string, Entry>();

  /** Records an update stored for `(federationId, round)`. */
  add(federationId: string, round: number, siteId: string): void {
    this.entryFor(federationId, round).sites.add(siteId);
  }

  /** The sites with an update stored for the round (read through `load` the first time). */
  async get(
    federationId: string,
    round: number,
    load: () => Promise<Array<{ siteId: string }>>,
  ): Promise<ReadonlySet<string>> {
    const entry = this.entryFor(federationId, round);
    if (!entry.loaded) {
      const stored = await load();
      const current = this.entryFor(federationId, round);
      for (const u of stored) current.sites.add(u.siteId);
      current.loaded = true;
      return current.sites;
    }
    return entry.sites;
  }

  private entryFor(federationId: string, round: number): Entry {
    let entry = this.entries.get(federationId);
    if (!entry || entry.round !== round) {
      if (entry && entry.round > round) return { round, sites: new Set(), loaded: false }; // an older round: not cached
      entry = { round, sites: new Set(), loaded: false };
      this.entries.set(federationId, entry);
    }
    return entry;
  }
}
