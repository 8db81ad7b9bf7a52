/** PostgreSQL: secure-aggregation messages per round and site (insert-once), and each round's fixed cohort. */
import { unknownRound } from '../errors';
import type { PutSecaggMessageResult, SecaggCohortRecord, SecaggMessageRecord } from '../records';
import type { SecaggStore } from '../types';
import { parseJson, type PgContext } from './context';
import type { Sql } from './db';
import { getRound } from './federations';
import { checkFence } from './leases';

interface CohortRow extends Omit<SecaggCohortRecord, 'siteIds'> {
  siteIds: string;
}

const SELECT_MESSAGE = `SELECT federation_id AS "federationId", round, site_id AS "siteId", kind, payload,
  created_at AS "createdAt" FROM secagg_messages`;
const SELECT_COHORT = `SELECT federation_id AS "federationId", round, site_ids AS "siteIds", fixed_at AS "fixedAt"
  FROM secagg_cohorts`;

const toCohort = (row: CohortRow): SecaggCohortRecord => ({ ...row, siteIds: parseJson<string[]>(row.siteIds) });

async function getSecaggCohort(sql: Sql, federationId: string, round: number): Promise<SecaggCohortRecord | null> {
  const row = await sql.one<CohortRow>(`${SELECT_COHORT} WHERE federation_id = $1 AND round = $2`, [
    federationId,
    round,
  ]);
  return row ? toCohort(row) : null;
}

export function secagg(x: PgContext): SecaggStore {
  return {
    async putSecaggMessage(m) {
      return x.tx(async (sql): Promise<PutSecaggMessageResult> => {
        if (!(await getRound(sql, m.federationId, m.round))) throw unknownRound();
        const inserted = await sql.count(
          `INSERT INTO secagg_messages (federation_id, round, site_id, kind, payload, created_at)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
          [m.federationId, m.round, m.siteId, m.kind, m.payload, m.createdAt],
        );
        if (inserted === 1) return { status: 'accepted' };
        const existing = (await sql.one<SecaggMessageRecord>(
          `${SELECT_MESSAGE} WHERE federation_id = $1 AND round = $2 AND site_id = $3 AND kind = $4`,
          [m.federationId, m.round, m.siteId, m.kind],
        )) as SecaggMessageRecord;
        return { status: existing.payload === m.payload ? 'duplicate' : 'conflict', existing };
      });
    },

    async listSecaggMessages(federationId, round, kind, from) {
      return from
        ? x.sql.rows<SecaggMessageRecord>(
            `${SELECT_MESSAGE} WHERE federation_id = $1 AND round = $2 AND kind = $3 AND site_id = ANY($4::text[])
             ORDER BY site_id`,
            [federationId, round, kind, [...from]],
          )
        : x.sql.rows<SecaggMessageRecord>(
            `${SELECT_MESSAGE} WHERE federation_id = $1 AND round = $2 AND kind = $3 ORDER BY site_id`,
            [federationId, round, kind],
          );
    },

    async listSecaggSenders(federationId, round, kind) {
      const rows = await x.sql.rows<{ siteId: string }>(
        `SELECT site_id AS "siteId" FROM secagg_messages WHERE federation_id = $1 AND round = $2 AND kind = $3
         ORDER BY site_id`,
        [federationId, round, kind],
      );
      return rows.map((r) => r.siteId);
    },

    async countSecaggMessages(federationId, round, kind) {
      const row = await x.sql.one<{ n: number }>(
        'SELECT COUNT(*)::int AS n FROM secagg_messages WHERE federation_id = $1 AND round = $2 AND kind = $3',
        [federationId, round, kind],
      );
      return row?.n ?? 0;
    },

    async fixSecaggCohort(cohort, fence) {
      return x.tx(async (sql): Promise<SecaggCohortRecord> => {
        await checkFence(sql, fence);
        if (!(await getRound(sql, cohort.federationId, cohort.round))) throw unknownRound();
        // First write wins: a concurrent fix waits for the first to commit, inserts nothing, then reads the first.
        await sql.count(
          'INSERT INTO secagg_cohorts (federation_id, round, site_ids, fixed_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
          [cohort.federationId, cohort.round, JSON.stringify(cohort.siteIds), cohort.fixedAt],
        );
        return (await getSecaggCohort(sql, cohort.federationId, cohort.round)) as SecaggCohortRecord;
      });
    },

    async getSecaggCohort(federationId, round) {
      return getSecaggCohort(x.sql, federationId, round);
    },
  };
}
