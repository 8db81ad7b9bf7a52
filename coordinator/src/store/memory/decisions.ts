/** In memory: sites' decisions about federations' plans, the latest per (federation, site). */
import { unknownFederation } from '../errors';
import { SITE_DECISION_KEYS } from '../keys';
import type { PutSiteDecisionResult, SiteDecisionRecord } from '../records';
import type { DecisionStore } from '../types';
import { cloneRecord, compareStrings } from '../util';
import type { MemoryContext } from './context';
import { key } from './state';

const copy = (d: SiteDecisionRecord): SiteDecisionRecord => cloneRecord(d, SITE_DECISION_KEYS);

export function decisions(x: MemoryContext): DecisionStore {
  return {
    async putSiteDecision(d, audit) {
      return x.audited(
        audit,
        (s): PutSiteDecisionResult => {
          if (!s.federations.has(d.federationId)) throw unknownFederation();
          const k = key(d.federationId, d.siteId);
          const existing = s.siteDecisions.get(k);
          if (existing && existing.planSha256 === d.planSha256 && existing.decision === d.decision)
            return { status: 'unchanged', decision: copy(existing) };
          s.siteDecisions.set(k, copy(d));
          return { status: 'recorded', decision: copy(d) };
        },
        (r) => r.status === 'recorded',
      );
    },

    async listSiteDecisions(federationId) {
      return [...x.s.siteDecisions.values()]
        .filter((d) => d.federationId === federationId)
        .sort((a, b) => compareStrings(a.siteId, b.siteId))
        .map(copy);
    },
  };
}
