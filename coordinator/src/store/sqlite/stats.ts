/** SQLite: masked secure-sum contributions per federation and site (normalisation statistics; Cox baselines). */
import { statsMethods, type ContributionKind } from '../contribution-stores';
import { unknownFederation } from '../errors';
import type { PutStatsContributionResult, StatsContributionRecord } from '../records';
import type { StatsStore } from '../types';
import { fromBlob, toBlob, type SqliteContext } from './context';
import { getFederation } from './federations';

interface Row extends Omit<StatsContributionRecord, 'masked'> {
  masked: Buffer;
}

const select = (table: string) =>
  `SELECT federation_id AS federationId, site_id AS siteId, masked, created_at AS createdAt FROM ${table}`;

const toRecord = (row: Row): StatsContributionRecord => ({ ...row, masked: fromBlob(row.masked) });

/** Insert-once masked contributions of one secure sum per (federation, site), in `table`. */
export function contributionTable(x: SqliteContext, kind: ContributionKind) {
  const table = `${kind}_contributions`;
  const SELECT = select(table);
  return {
    async put(r: StatsContributionRecord): Promise<PutStatsContributionResult> {
      const c = x.c;
      return c.tx((): PutStatsContributionResult => {
        if (!getFederation(c, r.federationId)) throw unknownFederation();
        const row = c.stmt(`${SELECT} WHERE federation_id = ? AND site_id = ?`).get(r.federationId, r.siteId) as
          Row | undefined;
        if (row) {
          const existing = toRecord(row);
          return {
            status: Buffer.from(existing.masked).equals(Buffer.from(r.masked)) ? 'duplicate' : 'conflict',
            existing,
          };
        }
        c.stmt(`INSERT INTO ${table} (federation_id, site_id, masked, created_at) VALUES (?, ?, ?, ?)`).run(
          r.federationId,
          r.siteId,
          toBlob(r.masked),
          r.createdAt,
        );
        return { status: 'accepted' };
      });
    },

    async list(federationId: string): Promise<StatsContributionRecord[]> {
      return (x.c.stmt(`${SELECT} WHERE federation_id = ? ORDER BY site_id`).all(federationId) as Row[]).map(toRecord);
    },
  };
}

export const stats = (x: SqliteContext): StatsStore => statsMethods((kind) => contributionTable(x, kind));
