/** Contract: sites' decisions about federations' plans — the latest per (federation, site), idempotent, audited. */
import { describe, expect, test } from '@jest/globals';
import type { NewAuditEntry, SiteDecisionRecord, Store } from '../../types';
import { type HarnessRef, seedFederation, t } from './fixtures';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

const decision = (
  siteId: string,
  d: SiteDecisionRecord['decision'],
  planSha256 = A,
  at = 10,
  federationId = 'fed-1',
): SiteDecisionRecord => ({ federationId, siteId, planSha256, decision: d, decidedAt: t(at) });

const audit = (siteId: string, d: string): NewAuditEntry => ({
  at: t(0),
  actor: `site:${siteId}`,
  action: 'site.plan_decision',
  subject: 'fed-1',
  detail: { decision: d },
});

async function decisionAudits(store: Store): Promise<string[]> {
  return (await store.listAudit({ limit: 1000 }))
    .filter((e) => e.action === 'site.plan_decision')
    .map((e) => `${e.actor} ${String(e.detail.decision)}`);
}

export function decisionContract(h: HarnessRef): void {
  describe('site decisions', () => {
    test('keeps the latest decision per federation and site, lists them by site id', async () => {
      await seedFederation(h.store, 'fed-1', 0);
      await seedFederation(h.store, 'fed-2', 0);
      const first = decision('site-b', 'approved');
      expect(await h.store.putSiteDecision(first)).toEqual({ status: 'recorded', decision: first });
      await h.store.putSiteDecision(decision('site-a', 'rejected', B, 11));
      await h.store.putSiteDecision(decision('site-a', 'approved', B, 12, 'fed-2'));
      const revoked = decision('site-b', 'revoked', A, 20);
      expect(await h.store.putSiteDecision(revoked)).toEqual({ status: 'recorded', decision: revoked });
      const s = await h.again();
      expect(await s.listSiteDecisions('fed-1')).toEqual([decision('site-a', 'rejected', B, 11), revoked]);
      expect(await s.listSiteDecisions('fed-2')).toEqual([decision('site-a', 'approved', B, 12, 'fed-2')]);
      expect(await s.listSiteDecisions('nope')).toEqual([]);
    });

    test('the same decision about the same hash again is unchanged: its first time kept, no audit entry', async () => {
      await seedFederation(h.store, 'fed-1', 0);
      const first = decision('site-a', 'approved', A, 10);
      await h.store.putSiteDecision(first, audit('site-a', 'approved'));
      expect(await h.store.putSiteDecision(decision('site-a', 'approved', A, 30), audit('site-a', 'again'))).toEqual({
        status: 'unchanged',
        decision: first,
      });
      // Another hash, or another decision, is a new decision.
      await h.store.putSiteDecision(decision('site-a', 'approved', B, 40), audit('site-a', 'approved B'));
      await h.store.putSiteDecision(decision('site-a', 'revoked', B, 50), audit('site-a', 'revoked B'));
      const s = await h.again();
      expect(await s.listSiteDecisions('fed-1')).toEqual([decision('site-a', 'revoked', B, 50)]);
      expect(await decisionAudits(s)).toEqual([
        'site:site-a approved',
        'site:site-a approved B',
        'site:site-a revoked B',
      ]);
    });

    test('rejects an unknown federation and writes nothing', async () => {
      await expect(
        h.store.putSiteDecision(decision('site-a', 'approved', A, 10, 'nope'), audit('site-a', 'x')),
      ).rejects.toMatchObject({ code: 'UNKNOWN_FEDERATION' });
      expect(await h.store.listSiteDecisions('nope')).toEqual([]);
      expect(await decisionAudits(h.store)).toEqual([]);
    });
  });
}
