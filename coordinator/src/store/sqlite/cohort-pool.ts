/** SQLite: the secure pools of cohort queries and the sites' masked vectors. */
import { unknownCohortPool, unknownCohortQuery } from '../errors';
import type { CohortPoolContributionRecord, CohortPoolRecord, PutCohortPoolContributionResult } from '../records';
import type { CohortPoolStore } from '../types';
import { fromBlob, toBlob, type SqliteContext } from './context';

interface PoolRow extends Omit<CohortPoolRecord, 'siteIds' | 'result'> {
  siteIds: string;
  result: string | null;
}
interface ContributionRow extends Omit<CohortPoolContributionRecord, 'masked'> {
  masked: Buffer;
}

const POOLS =
  'SELECT query_id AS queryId, site_ids AS siteIds, length, state, result, created_at AS createdAt FROM cohort_pools';
const CONTRIBUTIONS =
  'SELECT query_id AS queryId, site_id AS siteId, masked, created_at AS createdAt FROM cohort_pool_contributions';

const toPool = (r: PoolRow): CohortPoolRecord => ({
  ...r,
  siteIds: JSON.parse(r.siteIds) as string[],
  result: r.result === null ? null : (JSON.parse(r.result) as CohortPoolRecord['result']),
});
const toContribution = (r: ContributionRow): CohortPoolContributionRecord => ({ ...r, masked: fromBlob(r.masked) });

export function cohortPool(x: SqliteContext): CohortPoolStore {
  const getPool = (queryId: string): CohortPoolRecord | null => {
    const row = x.c.stmt(`${POOLS} WHERE query_id = ?`).get(queryId) as PoolRow | undefined;
    return row ? toPool(row) : null;
  };
  return {
    async fixCohortPool(p) {
      const c = x.c;
      return c.tx(() => {
        if (!c.stmt('SELECT 1 FROM cohort_queries WHERE id = ?').get(p.queryId)) throw unknownCohortQuery();
        c.stmt(
          'INSERT INTO cohort_pools (query_id, site_ids, length, state, result, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (query_id) DO NOTHING',
        ).run(
          p.queryId,
          JSON.stringify(p.siteIds),
          p.length,
          p.state,
          p.result === null ? null : JSON.stringify(p.result),
          p.createdAt,
        );
        return getPool(p.queryId)!;
      });
    },

    async getCohortPool(queryId) {
      return getPool(queryId);
    },

    async putCohortPoolContribution(r) {
      const c = x.c;
      return c.tx((): PutCohortPoolContributionResult => {
        const pool = getPool(r.queryId);
        if (!pool) throw unknownCohortPool();
        const row = c.stmt(`${CONTRIBUTIONS} WHERE query_id = ? AND site_id = ?`).get(r.queryId, r.siteId) as
          ContributionRow | undefined;
        if (row) {
          const existing = toContribution(row);
          return {
            status: Buffer.from(existing.masked).equals(Buffer.from(r.masked)) ? 'duplicate' : 'conflict',
            existing,
          };
        }
        if (pool.state !== 'open') return { status: 'closed', pool };
        c.stmt('INSERT INTO cohort_pool_contributions (query_id, site_id, masked, created_at) VALUES (?, ?, ?, ?)').run(
          r.queryId,
          r.siteId,
          toBlob(r.masked),
          r.createdAt,
        );
        return { status: 'accepted' };
      });
    },

    async listCohortPoolContributions(queryId) {
      return (x.c.stmt(`${CONTRIBUTIONS} WHERE query_id = ? ORDER BY site_id`).all(queryId) as ContributionRow[]).map(
        toContribution,
      );
    },

    async closeCohortPool(queryId, state, result) {
      const c = x.c;
      return c.tx(() => {
        if (!getPool(queryId)) throw unknownCohortPool();
        c.stmt("UPDATE cohort_pools SET state = ?, result = ? WHERE query_id = ? AND state = 'open'").run(
          state,
          JSON.stringify(result),
          queryId,
        );
        return getPool(queryId)!;
      });
    },
  };
}
