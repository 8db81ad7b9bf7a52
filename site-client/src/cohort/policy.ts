/**
 * The cohort statistics part of a site's policy: whether this hospital answers cohort queries at all, whether a cron
 * job may answer them without a person (`twinfed-site stats answer --all-pending`), its own k floor and Laplace ε for
 * counts, and the features it lets queries read. It is the `cohortQueries` key of `<data dir>/policy.json`; the rest
 * of that file holds the plan approval rules; the whole file is read and validated in one place (governance/policy:
 * `readPolicyFile`, POLICY_INVALID). Without the key, nothing is automatic: a person answers or refuses each query.
 */
import { z } from 'zod';
import { COHORT_MIN_K, cohortQueryFeatures, type CohortQuery } from '@twinfed/shared';

/** `policy.json` → `cohortQueries`. */
export const CohortPolicySchema = z
  .strictObject({
    allowed: z
      .boolean()
      .describe('Answer cohort queries at all (false: every query is refused, NOT_ALLOWED_BY_POLICY).'),
    autoAnswer: z
      .boolean()
      .default(false)
      .describe('`twinfed-site stats answer --all-pending` answers allowed queries without a person.'),
    k: z
      .number()
      .int()
      .min(2)
      .max(1000)
      .optional()
      .describe(`This site's minimum cell size; the site applies max(query k, this, ${COHORT_MIN_K}).`),
    epsilon: z
      .number()
      .positive()
      .max(100)
      .optional()
      .describe('Laplace noise of scale 1/ε on every released count; absent: exact counts.'),
    features: z
      .array(z.string().min(1).max(64))
      .max(200)
      .optional()
      .describe('The only features a query may group by or summarise; absent: any feature of the data.'),
  })
  .describe("The site's rules for federated cohort statistics queries.");
export type CohortPolicy = z.infer<typeof CohortPolicySchema>;

/** What the policy says about one query. */
export interface CohortVerdict {
  /** `auto-answer`: allowed, and a cron job may answer; `allowed`: a person answers; `not-allowed`: refuse; `no-policy`: a person decides. */
  verdict: 'auto-answer' | 'allowed' | 'not-allowed' | 'no-policy';
  /** Why, in words (one line each). */
  reasons: string[];
}

/** The policy's verdict on `query`. */
export function cohortVerdict(policy: CohortPolicy | null, query: CohortQuery): CohortVerdict {
  if (!policy)
    return { verdict: 'no-policy', reasons: ['policy.json has no cohortQueries part: a person answers or refuses'] };
  if (!policy.allowed) return { verdict: 'not-allowed', reasons: ['the policy does not allow cohort queries'] };
  const allowed = policy.features ? new Set(policy.features) : null;
  const outside = allowed ? cohortQueryFeatures(query).filter((f) => !allowed.has(f)) : [];
  if (outside.length > 0)
    return {
      verdict: 'not-allowed',
      reasons: outside.map((f) => `feature "${f}" is not among the policy's features`),
    };
  return policy.autoAnswer
    ? { verdict: 'auto-answer', reasons: ['allowed, answered automatically by --all-pending'] }
    : { verdict: 'allowed', reasons: ['allowed; a person answers (autoAnswer is off)'] };
}

/** The k floor and noise this site applies to `query`: k = max(query k, policy k, {@link COHORT_MIN_K}). */
export function cohortFloor(
  policy: CohortPolicy | null,
  query: Pick<CohortQuery, 'k'>,
): { k: number; epsilon?: number } {
  const k = Math.max(COHORT_MIN_K, query.k ?? 0, policy?.k ?? 0);
  return policy?.epsilon === undefined ? { k } : { k, epsilon: policy.epsilon };
}
