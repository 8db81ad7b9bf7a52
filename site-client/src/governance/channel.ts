import type { FederationView, PlanDecision } from '@twinfed/shared';

/** A federation the coordinator offers this site, with what it has recorded as this site's decision on its plan. */
export interface OfferedPlan {
  /** The federation as served (its plan and signed plan statement are untrusted until `verifySignedPlan`). */
  federation: FederationView;
  /** This site's decision on the current plan as the coordinator knows it (`pending`: none, or about another plan). */
  reported: PlanDecision | 'pending';
}

/**
 * How the site and the coordinator talk about plans: which federations are offered to this site, and this site's
 * decision about one plan hash. Only the decision and the hash go out, never who decided or why. The runner and the
 * `plans` commands use it; it is implemented over the coordinator's HTTP API (and in memory in tests).
 */
export interface PlanDecisionChannel {
  /** Every running federation this site is eligible for. */
  offered(options?: { signal?: AbortSignal }): Promise<OfferedPlan[]>;
  /** Tells the coordinator this site's decision about the plan with hash `planSha256` (idempotent). */
  report(
    federationId: string,
    decision: PlanDecision,
    planSha256: string,
    options?: { signal?: AbortSignal },
  ): Promise<void>;
}
