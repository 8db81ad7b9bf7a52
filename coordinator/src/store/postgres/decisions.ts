/** PostgreSQL: sites' decisions about federations' plans, the latest per (federation, site). */
import { unknownFederation } from '../errors';
import type { PutSiteDecisionResult, SiteDecisionRecord } from '../records';
import type { DecisionStore } from '../types';
import type { PgContext } from './context';
import { getFederation } from './federations';

const SELECT = `SELECT federation_id AS "federationId", site_id AS "siteId", plan_sha256 AS "planSha256", decision,
  decided_at AS "decidedAt" FROM site_decisions`;

export function decisions(x: PgContext): DecisionStore {
  return {
    async putSiteDecision(d, audit) {
      return x.audited(
        audit,
        async (sql): Promise<PutSiteDecisionResult> => {
          if (!(await getFederation(sql, d.federationId))) throw unknownFederation();
          // Make sure the row exists, then lock it: two processes deciding at once are ordered, each sees the other's.
          const created = await sql.count(
            `INSERT INTO site_decisions (federation_id, site_id, plan_sha256, decision, decided_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
            [d.federationId, d.siteId, d.planSha256, d.decision, d.decidedAt],
          );
          if (created === 1) return { status: 'recorded', decision: { ...d } };
          const existing = (await sql.one<SiteDecisionRecord>(
            `${SELECT} WHERE federation_id = $1 AND site_id = $2 FOR UPDATE`,
            [d.federationId, d.siteId],
          )) as SiteDecisionRecord;
          if (existing.planSha256 === d.planSha256 && existing.decision === d.decision)
            return { status: 'unchanged', decision: existing };
          await sql.count(
            `UPDATE site_decisions SET plan_sha256 = $3, decision = $4, decided_at = $5
             WHERE federation_id = $1 AND site_id = $2`,
            [d.federationId, d.siteId, d.planSha256, d.decision, d.decidedAt],
          );
          return { status: 'recorded', decision: { ...d } };
        },
        (r) => r.status === 'recorded',
      );
    },

    async listSiteDecisions(federationId) {
      return x.sql.rows<SiteDecisionRecord>(`${SELECT} WHERE federation_id = $1 ORDER BY site_id`, [federationId]);
    },
  };
}
