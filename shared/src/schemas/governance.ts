/**
 * Plan governance on the wire: what a site tells the coordinator about a federation's plan, and what the coordinator
 * shows of it. A decision is always about one plan hash (`planDigest` of the plan as the coordinator signs it), so a
 * plan that changes is pending again everywhere. The approver's name and note stay at the site: they never travel.
 */
import { z } from 'zod';
import { Sha256HexSchema } from '../envelope/schema-helpers';
import { FederationViewSchema } from './api';
import { IdSchema } from './ids';

const iso = z.string().min(1).max(40);

/** What a site tells the coordinator about ONE plan hash; `revoked`: it approved earlier and withdrew. */
export const PlanDecisionSchema = z.enum(['approved', 'rejected', 'revoked']);
/** A site's decision about a plan hash. */
export type PlanDecision = z.infer<typeof PlanDecisionSchema>;

/** A site's standing on a federation's current plan: its decision about that hash, or `pending`. */
export const SiteDecisionStateSchema = z.enum(['approved', 'rejected', 'revoked', 'pending']);
/** See {@link SiteDecisionStateSchema}. */
export type SiteDecisionState = z.infer<typeof SiteDecisionStateSchema>;

/** PUT /v1/federations/:fid/decision (site): its decision about the plan with this digest. Never a name or a note. */
export const SiteDecisionRequestSchema = z.strictObject({ decision: PlanDecisionSchema, planSha256: Sha256HexSchema });
/** See {@link SiteDecisionRequestSchema}. */
export type SiteDecisionRequest = z.infer<typeof SiteDecisionRequestSchema>;

/**
 * A site's decision on a federation's current plan. `decision` is `pending` when the site's last decision is about
 * another hash than the current plan's, or when it has none; `planSha256` and `decidedAt` are those of its last
 * decision (null when none).
 */
export const SiteDecisionViewSchema = z.object({
  federationId: IdSchema,
  siteId: IdSchema,
  siteName: z.string(),
  decision: SiteDecisionStateSchema,
  planSha256: Sha256HexSchema.nullable(),
  decidedAt: iso.nullable(),
});
/** See {@link SiteDecisionViewSchema}. */
export type SiteDecisionView = z.infer<typeof SiteDecisionViewSchema>;

/** GET /v1/sites/self/federations (site): a federation offered to the calling site, with its decision on the current plan. */
export const OfferedFederationSchema = z.object({ federation: FederationViewSchema, decision: SiteDecisionViewSchema });
/** See {@link OfferedFederationSchema}. */
export type OfferedFederation = z.infer<typeof OfferedFederationSchema>;

/**
 * PUT /v1/federations/:fid/plan (operator): the federation's new plan, checked by the coordinator itself like a new
 * federation's (`INVALID_PLAN` with the issues). Only before round 1 opens.
 */
export const PlanAmendmentSchema = z.strictObject({
  plan: z.unknown().describe('The new federation plan (docs/plan.md; `twinfed plan schema` prints its JSON Schema).'),
});
/** See {@link PlanAmendmentSchema}. */
export type PlanAmendment = z.infer<typeof PlanAmendmentSchema>;

/** A site's standing on the plan with digest `currentPlanSha256`, given its last decision (null: none). */
export function decisionOnPlan(
  last: { decision: PlanDecision; planSha256: string } | null,
  currentPlanSha256: string,
): SiteDecisionState {
  return last !== null && last.planSha256 === currentPlanSha256 ? last.decision : 'pending';
}
