/** SQLite: secure-aggregation messages (key shares, reveals) per round and site, and each round's fixed cohort. */
import { unknownRound } from '../errors';
import type { PutSecaggMessageResult, SecaggCohortRecord, SecaggMessageRecord } from '../records';
import type { SecaggStore } from '../types';
import type { SqlContext, SqliteContext } from './context';
import { getRound } from './federations';
import { checkFence } from './leases';

interface CohortRow extends Omit<SecaggCohortRecord, 'siteIds'> {
  siteIds: string;
}

const SELECT_MESSAGE = `SELECT federation_id AS federationId, round, site_id AS siteId, kind, payload, created_at AS createdAt
  FROM secagg_messages`;
const SELECT_COHORT =
  'SELECT federation_id AS federationId, round, site_ids AS siteIds, fixed_at AS fixedAt FROM secagg_cohorts';

const toCohort = (row: CohortRow): SecaggCohortRecord => ({ ...row, siteIds: JSON.parse(row.siteIds) as string[] });

function getSecaggCohort(c: SqlContext, federationId: string, round: number): SecaggCohortRecord | null {
  const row = c.stmt(`${SELECT_COHORT} WHERE federation_id = ? AND round = ?`).get(federationId, round) as
    CohortRow | undefined;
  return row ? toCohort(row) : null;
}

export function secagg(x: SqliteContext): SecaggStore {
  return {
    async putSecaggMessage(m) {
      // Group commit (write-batch): a round's share messages, consistency signatures and reveals arrive in bursts
      // of the whole cohort; one durable commit each blocked the event loop for an fsync per message.
      return x.batch.run((c) =>
        c.tx((): PutSecaggMessageResult => {
          if (!getRound(c, m.federationId, m.round)) throw unknownRound();
          const existing = c
            .stmt(`${SELECT_MESSAGE} WHERE federation_id = ? AND round = ? AND site_id = ? AND kind = ?`)
            .get(m.federationId, m.round, m.siteId, m.kind) as SecaggMessageRecord | undefined;
          if (existing) return { status: existing.payload === m.payload ? 'duplicate' : 'conflict', existing };
          c.stmt(
            'INSERT INTO secagg_messages (federation_id, round, site_id, kind, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)',
          ).run(m.federationId, m.round, m.siteId, m.kind, m.payload, m.createdAt);
          return { status: 'accepted' };
        }),
      );
    },

    async listSecaggMessages(federationId, round, kind, from) {
      return (
        from
          ? x.c
              .stmt(
                `${SELECT_MESSAGE} WHERE federation_id = ? AND round = ? AND kind = ? AND site_id IN (SELECT value FROM json_each(?)) ORDER BY site_id`,
              )
              .all(federationId, round, kind, JSON.stringify(from))
          : x.c
              .stmt(`${SELECT_MESSAGE} WHERE federation_id = ? AND round = ? AND kind = ? ORDER BY site_id`)
              .all(federationId, round, kind)
      ) as SecaggMessageRecord[];
    },

    async listSecaggSenders(federationId, round, kind) {
      return (
        x.c
          .stmt(
            'SELECT site_id AS siteId FROM secagg_messages WHERE federation_id = ? AND round = ? AND kind = ? ORDER BY site_id',
          )
          .all(federationId, round, kind) as Array<{ siteId: string }>
      ).map((r) => r.siteId);
    },

    async countSecaggMessages(federationId, round, kind) {
      const row = x.c
        .stmt('SELECT COUNT(*) AS n FROM secagg_messages WHERE federation_id = ? AND round = ? AND kind = ?')
        .get(federationId, round, kind) as { n: number };
      return row.n;
    },

    async fixSecaggCohort(cohort, fence) {
      const c = x.c;
      return c.tx((): SecaggCohortRecord => {
        checkFence(c, fence);
        if (!getRound(c, cohort.federationId, cohort.round)) throw unknownRound();
        c.stmt(
          'INSERT INTO secagg_cohorts (federation_id, round, site_ids, fixed_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
        ).run(cohort.federationId, cohort.round, JSON.stringify(cohort.siteIds), cohort.fixedAt);
        return getSecaggCohort(c, cohort.federationId, cohort.round)!;
      });
    },

    async getSecaggCohort(federationId, round) {
      return getSecaggCohort(x.c, federationId, round);
    },
  };
}
