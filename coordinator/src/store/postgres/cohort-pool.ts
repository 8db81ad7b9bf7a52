/** PostgreSQL: the secure pools of cohort queries (fixed once) and the sites' masked vectors (insert-once). */
import { unknownCohortPool, unknownCohortQuery } from '../errors';
import type { CohortPoolContributionRecord, CohortPoolRecord, PutCohortPoolContributionResult } from '../records';
import type { CohortPoolStore } from '../types';
import { fromBytea, parseJson, toBytea, type PgContext } from './context';
import type { Sql } from './db';

interface PoolRow extends Omit<CohortPoolRecord, 'siteIds' | 'result'> {
  siteIds: string;
  result: string | null;
}
interface ContributionRow extends Omit<CohortPoolContributionRecord, 'masked'> {
  masked: Buffer;
}

const POOLS = `SELECT query_id AS "queryId", site_ids AS "siteIds", length, state, result, created_at AS "createdAt"
  FROM cohort_pools`;
const CONTRIBUTIONS = `SELECT query_id AS "queryId", site_id AS "siteId", masked, created_at AS "createdAt"
  FROM cohort_pool_contributions`;

const toPool = (r: PoolRow): CohortPoolRecord => ({
  ...r,
  siteIds: parseJson<string[]>(r.siteIds),
  result: r.result === null ? null : parseJson<CohortPoolRecord['result']>(r.result),
});
const toContribution = (r: ContributionRow): CohortPoolContributionRecord => ({ ...r, masked: fromBytea(r.masked) });

/** The pool; `lock` 'share': it cannot close until the transaction ends. */
async function getPool(sql: Sql, queryId: string, lock?: 'share'): Promise<CohortPoolRecord | null> {
  const row = await sql.one<PoolRow>(`${POOLS} WHERE query_id = $1${lock ? ' FOR SHARE' : ''}`, [queryId]);
  return row ? toPool(row) : null;
}

async function existing(sql: Sql, r: CohortPoolContributionRecord): Promise<PutCohortPoolContributionResult | null> {
  const row = await sql.one<ContributionRow>(`${CONTRIBUTIONS} WHERE query_id = $1 AND site_id = $2`, [
    r.queryId,
    r.siteId,
  ]);
  if (!row) return null;
  const first = toContribution(row);
  return {
    status: Buffer.from(first.masked).equals(Buffer.from(r.masked)) ? 'duplicate' : 'conflict',
    existing: first,
  };
}

export function cohortPool(x: PgContext): CohortPoolStore {
  return {
    async fixCohortPool(p) {
      return x.tx(async (sql) => {
        if (!(await sql.one('SELECT 1 FROM cohort_queries WHERE id = $1', [p.queryId]))) throw unknownCohortQuery();
        // First write wins: a concurrent fix waits for the first to commit, inserts nothing, then reads the first.
        await sql.count(
          `INSERT INTO cohort_pools (query_id, site_ids, length, state, result, created_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (query_id) DO NOTHING`,
          [
            p.queryId,
            JSON.stringify(p.siteIds),
            p.length,
            p.state,
            p.result === null ? null : JSON.stringify(p.result),
            p.createdAt,
          ],
        );
        return (await getPool(sql, p.queryId)) as CohortPoolRecord;
      });
    },

    async getCohortPool(queryId) {
      return getPool(x.sql, queryId);
    },

    async putCohortPoolContribution(r) {
      return x.tx(async (sql): Promise<PutCohortPoolContributionResult> => {
        // FOR SHARE: the pool cannot close between the state check and the insert.
        const pool = await getPool(sql, r.queryId, 'share');
        if (!pool) throw unknownCohortPool();
        const before = await existing(sql, r);
        if (before) return before;
        if (pool.state !== 'open') return { status: 'closed', pool };
        const inserted = await sql.count(
          `INSERT INTO cohort_pool_contributions (query_id, site_id, masked, created_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING`,
          [r.queryId, r.siteId, toBytea(r.masked), r.createdAt],
        );
        return inserted === 1 ? { status: 'accepted' } : ((await existing(sql, r)) as PutCohortPoolContributionResult);
      });
    },

    async listCohortPoolContributions(queryId) {
      return (
        await x.sql.rows<ContributionRow>(`${CONTRIBUTIONS} WHERE query_id = $1 ORDER BY site_id`, [queryId])
      ).map(toContribution);
    },

    async closeCohortPool(queryId, state, result) {
      return x.tx(async (sql) => {
        if (!(await getPool(sql, queryId))) throw unknownCohortPool();
        await sql.count("UPDATE cohort_pools SET state = $1, result = $2 WHERE query_id = $3 AND state = 'open'", [
          state,
          JSON.stringify(result),
          queryId,
        ]);
        return (await getPool(sql, queryId)) as CohortPoolRecord;
      });
    },
  };
}
