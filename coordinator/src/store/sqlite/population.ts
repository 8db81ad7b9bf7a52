/** SQLite: population reports per model version and site. */
import { unknownVersion } from '../errors';
import type { PopulationReportRecord } from '../records';
import type { PopulationStore } from '../types';
import type { SqliteContext } from './context';
import { hasVersion } from './versions';

interface Row extends Omit<PopulationReportRecord, 'report'> {
  report: string;
}

const SELECT = `SELECT p.version_id AS versionId, p.federation_id AS federationId, p.site_id AS siteId, p.report,
  p.created_at AS createdAt FROM population_reports p JOIN model_versions v ON v.id = p.version_id`;

const toRecord = (row: Row): PopulationReportRecord => ({
  ...row,
  report: JSON.parse(row.report) as PopulationReportRecord['report'],
});

export function population(x: SqliteContext): PopulationStore {
  return {
    async putPopulationReport(r) {
      const c = x.c;
      return c.tx(() => {
        if (!hasVersion(c, r.versionId)) throw unknownVersion();
        c.stmt(
          `INSERT INTO population_reports (version_id, federation_id, site_id, report, created_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (version_id, site_id) DO UPDATE SET report = excluded.report, created_at = excluded.created_at`,
        ).run(r.versionId, r.federationId, r.siteId, JSON.stringify(r.report), r.createdAt);
        return toRecord(c.stmt(`${SELECT} WHERE p.version_id = ? AND p.site_id = ?`).get(r.versionId, r.siteId) as Row);
      });
    },

    async listPopulationReports(filter = {}) {
      const where: string[] = [];
      const args: string[] = [];
      if (filter.versionId !== undefined) {
        where.push('p.version_id = ?');
        args.push(filter.versionId);
      }
      if (filter.federationId !== undefined) {
        where.push('p.federation_id = ?');
        args.push(filter.federationId);
      }
      const sql = `${SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY v.rowid, p.site_id`;
      return (x.c.stmt(sql).all(...args) as Row[]).map(toRecord);
    },
  };
}
