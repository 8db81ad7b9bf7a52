import type { OfferedFederation, PlanDecision } from '@twinfed/shared';
import type { CoordinatorClient } from '../transport/coordinator-client';

/**
 * How the site and the coordinator talk about plans: which federations are offered to this site (each with the
 * decision the coordinator has recorded for it), and this site's decision about one plan hash. Only the decision and
 * the hash go out, never who decided or why. The runner and the `plans` commands use it.
 */
export interface PlanDecisionChannel {
  /** Every running federation this site is eligible for (its plan and signed plan statement are untrusted until verified). */
  offered(options?: { signal?: AbortSignal }): Promise<OfferedFederation[]>;
  /** Tells the coordinator this site's decision about the plan with hash `planSha256` (idempotent). */
  report(
    federationId: string,
    decision: PlanDecision,
    planSha256: string,
    options?: { signal?: AbortSignal },
  ): Promise<void>;
}

/** The channel over the coordinator's API: `GET /v1/sites/self/federations` and `PUT /v1/federations/:fid/decision`. */
export function coordinatorDecisions(api: CoordinatorClient): PlanDecisionChannel {
  return {
    offered: (options = {}) => api.siteFederations(options),
    report: async (federationId, decision, planSha256, options = {}) => {
      await api.federationDecision({ federationId, decision, planSha256, ...options });
    },
  };
}
