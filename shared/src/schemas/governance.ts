import { z } from 'zod';

/**
 * Plan governance: each site decides, per plan hash, whether the federation's plan may run on its data. What a site
 * tells the coordinator about ONE plan hash (`revoked`: it approved it earlier and withdrew). Never the approver's name
 * or note: those stay in the site's own audit chain.
 */
export const PlanDecisionSchema = z.enum(['approved', 'rejected', 'revoked']);
/** A site's decision about one plan hash (see {@link PlanDecisionSchema}). */
export type PlanDecision = z.infer<typeof PlanDecisionSchema>;
