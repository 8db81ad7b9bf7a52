import { decisionOnPlan, requiresApprovals, type SiteDecisionState } from '@twinfed/shared';
import type { Store } from '../store';
import type { Loaded } from './core';

/** What the sites' decisions on a federation's current plan allow the next round. */
interface Consent {
  /** Whether selection may draw the site. */
  admits: (siteId: string) => boolean;
  /** Why no round may open now (too few approvals of the current plan), or null. */
  waiting: string | null;
}

/**
 * The sites' decisions on the federation's current plan (by its hash: a decision about another version of the plan
 * is `pending`), as the next round sees them. With `governance.requireApprovals`, selection draws only the sites that
 * approved the current plan and no round opens before at least `minSites` enrolled, non-revoked sites did; otherwise
 * it leaves out the sites that rejected or revoked it, and pending sites stay eligible.
 */
export async function consentOf(store: Store, loaded: Loaded): Promise<Consent> {
  const { federation, plan, planSha256 } = loaded;
  const states = new Map<string, SiteDecisionState>(
    (await store.listSiteDecisions(federation.id)).map((d) => [d.siteId, decisionOnPlan(d, planSha256)]),
  );
  if (!requiresApprovals(plan)) {
    const refused = (siteId: string) => ['rejected', 'revoked'].includes(states.get(siteId) ?? 'pending');
    return { admits: (siteId) => !refused(siteId), waiting: null };
  }
  const admits = (siteId: string) => states.get(siteId) === 'approved';
  const approved = (await store.listSites()).filter((s) => s.revokedAt === null && admits(s.id)).length;
  return {
    admits,
    waiting:
      approved < plan.minSites
        ? `${approved} of the ${plan.minSites} site approvals of the current plan a round needs`
        : null,
  };
}
