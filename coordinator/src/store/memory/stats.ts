/** In memory: masked secure-sum contributions per federation and site. */
import { statsMethods, type ContributionKind } from '../contribution-stores';
import { unknownFederation } from '../errors';
import { STATS_CONTRIBUTION_KEYS } from '../keys';
import type { PutStatsContributionResult, StatsContributionRecord } from '../records';
import type { StatsStore } from '../types';
import { cloneRecord, compareStrings } from '../util';
import type { MemoryContext } from './context';
import { key } from './state';

const copy = (c: StatsContributionRecord): StatsContributionRecord => cloneRecord(c, STATS_CONTRIBUTION_KEYS);

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);

/** Insert-once masked contributions of one secure sum per (federation, site), in `table`. */
export function contributionTable(x: MemoryContext, kind: ContributionKind) {
  const table = `${kind}Contributions` as const;
  return {
    async put(c: StatsContributionRecord): Promise<PutStatsContributionResult> {
      const s = x.s;
      if (!s.federations.has(c.federationId)) throw unknownFederation();
      const existing = s[table].get(key(c.federationId, c.siteId));
      if (existing)
        return { status: sameBytes(existing.masked, c.masked) ? 'duplicate' : 'conflict', existing: copy(existing) };
      s[table].set(key(c.federationId, c.siteId), copy(c));
      return { status: 'accepted' };
    },

    async list(federationId: string): Promise<StatsContributionRecord[]> {
      return [...x.s[table].values()]
        .filter((c) => c.federationId === federationId)
        .sort((a, b) => compareStrings(a.siteId, b.siteId))
        .map(copy);
    },
  };
}

export const stats = (x: MemoryContext): StatsStore => statsMethods((kind) => contributionTable(x, kind));
