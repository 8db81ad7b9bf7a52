/** SQLite: sites' decisions about federations' plans, the latest per (federation, site). */
import { unknownFederation } from '../errors';
import type { PutSiteDecisionResult, SiteDecisionRecord } from '../records';
import type { DecisionStore } from '../types';
import type { SqliteContext } from './context';
import { getFederation } from './federations';

const SELECT = `SELECT federation_id AS federationId, site_id AS siteId, plan_sha256 AS planSha256, decision,
  decided_at AS decidedAt FROM site_decisions`;

export function decisions(x: SqliteContext): DecisionStore {
  return {
    async putSiteDecision(d, audit) {
      return x.audited(
        audit,
        (c) =>
          c.tx((): PutSiteDecisionResult => {
            if (!getFederation(c, d.federationId)) throw unknownFederation();
            const existing = c
              .stmt(`${SELECT} WHERE federation_id = ? AND site_id = ?`)
              .get(d.federationId, d.siteId) as SiteDecisionRecord | undefined;
            if (existing && existing.planSha256 === d.planSha256 && existing.decision === d.decision)
              return { status: 'unchanged', decision: existing };
            c.stmt(
              `INSERT INTO site_decisions (federation_id, site_id, plan_sha256, decision, decided_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (federation_id, site_id) DO UPDATE SET plan_sha256 = excluded.plan_sha256,
                 decision = excluded.decision, decided_at = excluded.decided_at`,
            ).run(d.federationId, d.siteId, d.planSha256, d.decision, d.decidedAt);
            return { status: 'recorded', decision: { ...d } };
          }),
        (r) => r.status === 'recorded',
      );
    },

    async listSiteDecisions(federationId) {
      return x.c.stmt(`${SELECT} WHERE federation_id = ? ORDER BY site_id`).all(federationId) as SiteDecisionRecord[];
    },
  };
}
