/** Contract: insert-once masked secure-sum contributions per (federation, site). */
import { describe, expect, test } from '@jest/globals';
import { bytes, type HarnessRef, seedFederation } from './fixtures';

const contribution = (federationId: string, siteId: string, fill = 1) => ({
  federationId,
  siteId,
  masked: bytes(24, fill),
  createdAt: '2026-01-01T00:00:05.000Z',
});

export function statsContract(h: HarnessRef): void {
  describe('stats contributions', () => {
    test('accepts once, then reports duplicate (same bytes) or conflict (other bytes) and keeps the first', async () => {
      await seedFederation(h.store, 'fed-1', 0);
      const a = contribution('fed-1', 'site-a');
      expect(await h.store.putStatsContribution(a)).toEqual({ status: 'accepted' });
      expect(await h.store.putStatsContribution({ ...a, createdAt: '2026-01-01T00:00:09.000Z' })).toEqual({
        status: 'duplicate',
        existing: a,
      });
      expect(await h.store.putStatsContribution(contribution('fed-1', 'site-a', 7))).toEqual({
        status: 'conflict',
        existing: a,
      });
      const s = await h.again();
      expect(await s.listStatsContributions('fed-1')).toEqual([a]);
    });

    test('lists one federation ordered by site id and rejects an unknown federation', async () => {
      await seedFederation(h.store, 'fed-1', 0);
      await seedFederation(h.store, 'fed-2', 0);
      await h.store.putStatsContribution(contribution('fed-1', 'site-c', 3));
      await h.store.putStatsContribution(contribution('fed-1', 'site-a', 1));
      await h.store.putStatsContribution(contribution('fed-2', 'site-b', 2));
      await expect(h.store.putStatsContribution(contribution('nope', 'site-a'))).rejects.toMatchObject({
        code: 'UNKNOWN_FEDERATION',
      });
      const s = await h.again();
      expect((await s.listStatsContributions('fed-1')).map((c) => c.siteId)).toEqual(['site-a', 'site-c']);
      expect((await s.listStatsContributions('fed-1'))[1]).toEqual(contribution('fed-1', 'site-c', 3));
      expect(await s.listStatsContributions('other')).toEqual([]);
    });

    test('baseline contributions live apart from normalisation statistics, with the same insert-once rule', async () => {
      await seedFederation(h.store, 'fed-1', 0);
      const a = contribution('fed-1', 'site-a');
      await h.store.putStatsContribution(contribution('fed-1', 'site-a', 9));
      expect(await h.store.putBaselineContribution(a)).toEqual({ status: 'accepted' });
      expect(await h.store.putBaselineContribution(a)).toEqual({ status: 'duplicate', existing: a });
      expect(await h.store.putBaselineContribution(contribution('fed-1', 'site-a', 7))).toEqual({
        status: 'conflict',
        existing: a,
      });
      await h.store.putBaselineContribution(contribution('fed-1', 'site-0', 2));
      await expect(h.store.putBaselineContribution(contribution('nope', 'site-a'))).rejects.toMatchObject({
        code: 'UNKNOWN_FEDERATION',
      });
      const s = await h.again();
      expect((await s.listBaselineContributions('fed-1')).map((c) => c.siteId)).toEqual(['site-0', 'site-a']);
      expect(await s.listStatsContributions('fed-1')).toEqual([contribution('fed-1', 'site-a', 9)]);
    });
  });
}
