/** PostgreSQL: masked secure-sum contributions per federation and site (insert-once). */
import { statsMethods, type ContributionKind } from '../contribution-stores';
import { unknownFederation } from '../errors';
import type { PutStatsContributionResult, StatsContributionRecord } from '../records';
import type { StatsStore } from '../types';
import { fromBytea, toBytea, type PgContext } from './context';
import type { Sql } from './db';
import { getFederation } from './federations';

interface Row extends Omit<StatsContributionRecord, 'masked'> {
  masked: Buffer;
}

type Table = `${ContributionKind}_contributions`;

const select = (
  table: Table,
) => `SELECT federation_id AS "federationId", site_id AS "siteId", masked, created_at AS "createdAt"
  FROM ${table}`;

const toRecord = (row: Row): StatsContributionRecord => ({ ...row, masked: fromBytea(row.masked) });

async function existing(sql: Sql, table: Table, r: StatsContributionRecord): Promise<PutStatsContributionResult> {
  const first = toRecord(
    (await sql.one<Row>(`${select(table)} WHERE federation_id = $1 AND site_id = $2`, [
      r.federationId,
      r.siteId,
    ])) as Row,
  );
  return {
    status: Buffer.from(first.masked).equals(Buffer.from(r.masked)) ? 'duplicate' : 'conflict',
    existing: first,
  };
}

/** Insert-once masked contributions of one secure sum per (federation, site), in `table`. */
export function contributionTable(x: PgContext, kind: ContributionKind) {
  const table: Table = `${kind}_contributions`;
  return {
    async put(r: StatsContributionRecord): Promise<PutStatsContributionResult> {
      return x.tx(async (sql): Promise<PutStatsContributionResult> => {
        if (!(await getFederation(sql, r.federationId))) throw unknownFederation();
        // First write wins across processes: a concurrent insert of the same key waits, then does nothing.
        const inserted = await sql.count(
          `INSERT INTO ${table} (federation_id, site_id, masked, created_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING`,
          [r.federationId, r.siteId, toBytea(r.masked), r.createdAt],
        );
        return inserted === 1 ? { status: 'accepted' } : existing(sql, table, r);
      });
    },

    async list(federationId: string): Promise<StatsContributionRecord[]> {
      return (await x.sql.rows<Row>(`${select(table)} WHERE federation_id = $1 ORDER BY site_id`, [federationId])).map(
        toRecord,
      );
    },
  };
}

export const stats = (x: PgContext): StatsStore => statsMethods((kind) => contributionTable(x, kind));
