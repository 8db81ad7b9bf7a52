/** SQLite: masked secure-sum contributions per federation and site. */
import { unknownFederation } from '../errors';
import type { PutStatsContributionResult, StatsContributionRecord } from '../records';
import type { StatsStore } from '../types';
import { fromBlob, toBlob, type SqliteContext } from './context';
import { getFederation } from './federations';

interface Row extends Omit<StatsContributionRecord, 'masked'> {
  masked: Buffer;
}

const SELECT =
  'SELECT federation_id AS federationId, site_id AS siteId, masked, created_at AS createdAt FROM stats_contributions';

const toRecord = (row: Row): StatsContributionRecord => ({ ...row, masked: fromBlob(row.masked) });

export function stats(x: SqliteContext): StatsStore {
  return {
    async putStatsContribution(r) {
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
        c.stmt('INSERT INTO stats_contributions (federation_id, site_id, masked, created_at) VALUES (?, ?, ?, ?)').run(
          r.federationId,
          r.siteId,
          toBlob(r.masked),
          r.createdAt,
        );
        return { status: 'accepted' };
      });
    },

    async listStatsContributions(federationId) {
      return (x.c.stmt(`${SELECT} WHERE federation_id = ? ORDER BY site_id`).all(federationId) as Row[]).map(toRecord);
    },
  };
}
