import {
  decisionOnPlan,
  OfferedFederationSchema,
  PlanDecisionSchema,
  SiteDecisionRequestSchema,
  SiteDecisionViewSchema,
} from './governance';

const HASH = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);

describe('the governance wire schemas', () => {
  test('a site tells the coordinator approved, rejected or revoked about one plan hash, and nothing else', () => {
    for (const decision of ['approved', 'rejected', 'revoked'])
      expect(SiteDecisionRequestSchema.parse({ decision, planSha256: HASH })).toEqual({ decision, planSha256: HASH });
    expect(PlanDecisionSchema.safeParse('pending').success).toBe(false);
    // Never the approver's name or note: a strict object refuses them.
    expect(SiteDecisionRequestSchema.safeParse({ decision: 'approved', planSha256: HASH, by: 'Dr A' }).success).toBe(
      false,
    );
    expect(SiteDecisionRequestSchema.safeParse({ decision: 'approved', planSha256: HASH.toUpperCase() }).success).toBe(
      false,
    );
    expect(SiteDecisionRequestSchema.safeParse({ decision: 'approved' }).success).toBe(false);
  });

  test('a decision view may be pending with no hash and no time', () => {
    const pending = {
      federationId: 'fed-1',
      siteId: 'site-a',
      siteName: 'A',
      decision: 'pending',
      planSha256: null,
      decidedAt: null,
    };
    expect(SiteDecisionViewSchema.parse(pending)).toEqual(pending);
    expect(SiteDecisionViewSchema.safeParse({ ...pending, decision: 'maybe' }).success).toBe(false);
    expect(OfferedFederationSchema.safeParse({ federation: {}, decision: pending }).success).toBe(false);
  });

  test('a decision counts only for the hash it was made about; otherwise the site is pending', () => {
    expect(decisionOnPlan(null, HASH)).toBe('pending');
    expect(decisionOnPlan({ decision: 'approved', planSha256: HASH }, HASH)).toBe('approved');
    expect(decisionOnPlan({ decision: 'rejected', planSha256: HASH }, HASH)).toBe('rejected');
    expect(decisionOnPlan({ decision: 'revoked', planSha256: HASH }, HASH)).toBe('revoked');
    expect(decisionOnPlan({ decision: 'approved', planSha256: OTHER }, HASH)).toBe('pending');
    expect(decisionOnPlan({ decision: 'rejected', planSha256: OTHER }, HASH)).toBe('pending');
  });
});
