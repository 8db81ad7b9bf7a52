/** PostgreSQL: population reports per model version and site. */
import { unknownVersion } from '../errors';
import type { PopulationReportRecord } from '../records';
import type { PopulationStore } from '../types';
import { parseJson, type PgContext } from './context';
import { hasVersion } from './versions';

interface Row extends Omit<PopulationReportRecord, 'report'> {
  report: string;
}

const SELECT = `SELECT p.version_id AS "versionId", p.federation_id AS "federationId", p.site_id AS "siteId", p.report,
  p.created_at AS "createdAt" FROM population_reports p JOIN model_versions v ON v.id = p.version_id`;

const toRecord = (row: Row): PopulationReportRecord => ({
  ...row,
  report: parseJson<PopulationReportRecord['report']>(row.report),
});

export function population(x: PgContext): PopulationStore {
  return {
    async putPopulationReport(r) {
      return x.tx(async (sql) => {
        if (!(await hasVersion(sql, r.versionId))) throw unknownVersion();
        await sql.count(
          `INSERT INTO population_reports (version_id, federation_id, site_id, report, created_at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (version_id, site_id) DO UPDATE SET report = EXCLUDED.report, created_at = EXCLUDED.created_at`,
          [r.versionId, r.federationId, r.siteId, JSON.stringify(r.report), r.createdAt],
        );
        return toRecord(
          (await sql.one<Row>(`${SELECT} WHERE p.version_id = $1 AND p.site_id = $2`, [r.versionId, r.siteId])) as Row,
        );
      });
    },

    async listPopulationReports(filter = {}) {
      const where: string[] = [];
      const args: string[] = [];
      if (filter.versionId !== undefined) {
        args.push(filter.versionId);
        where.push(`p.version_id = $${args.length}`);
      }
      if (filter.federationId !== undefined) {
        args.push(filter.federationId);
        where.push(`p.federation_id = $${args.length}`);
      }
      const text = `${SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY v.seq, p.site_id`;
      return (await x.sql.rows<Row>(text, args)).map(toRecord);
    },
  };
}
