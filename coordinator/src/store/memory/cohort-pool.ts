/** In memory: the secure pools of cohort queries and the sites' masked vectors. */
import { unknownCohortPool, unknownCohortQuery } from '../errors';
import { COHORT_POOL_CONTRIBUTION_KEYS, COHORT_POOL_KEYS } from '../keys';
import type { CohortPoolContributionRecord, CohortPoolRecord } from '../records';
import type { CohortPoolStore } from '../types';
import { cloneRecord, compareStrings } from '../util';
import type { MemoryContext } from './context';
import { key } from './state';

const copyPool = (p: CohortPoolRecord): CohortPoolRecord => cloneRecord(p, COHORT_POOL_KEYS);
const copyContribution = (c: CohortPoolContributionRecord): CohortPoolContributionRecord =>
  cloneRecord(c, COHORT_POOL_CONTRIBUTION_KEYS);

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);

export function cohortPool(x: MemoryContext): CohortPoolStore {
  return {
    async fixCohortPool(p) {
      const s = x.s;
      if (!s.cohortQueries.has(p.queryId)) throw unknownCohortQuery();
      const existing = s.cohortPools.get(p.queryId);
      if (existing) return copyPool(existing);
      s.cohortPools.set(p.queryId, copyPool(p));
      return copyPool(p);
    },

    async getCohortPool(queryId) {
      const p = x.s.cohortPools.get(queryId);
      return p ? copyPool(p) : null;
    },

    async putCohortPoolContribution(c) {
      const s = x.s;
      const pool = s.cohortPools.get(c.queryId);
      if (!pool) throw unknownCohortPool();
      const existing = s.cohortPoolContributions.get(key(c.queryId, c.siteId));
      if (existing)
        return {
          status: sameBytes(existing.masked, c.masked) ? 'duplicate' : 'conflict',
          existing: copyContribution(existing),
        };
      if (pool.state !== 'open') return { status: 'closed', pool: copyPool(pool) };
      s.cohortPoolContributions.set(key(c.queryId, c.siteId), copyContribution(c));
      return { status: 'accepted' };
    },

    async listCohortPoolContributions(queryId) {
      return [...x.s.cohortPoolContributions.values()]
        .filter((c) => c.queryId === queryId)
        .sort((a, b) => compareStrings(a.siteId, b.siteId))
        .map(copyContribution);
    },

    async closeCohortPool(queryId, state, result) {
      const pool = x.s.cohortPools.get(queryId);
      if (!pool) throw unknownCohortPool();
      if (pool.state === 'open') x.s.cohortPools.set(queryId, copyPool({ ...pool, state, result }));
      return copyPool(x.s.cohortPools.get(queryId)!);
    },
  };
}
