/** Contract: insert-once masked recalibration histograms per (federation, site), apart from the statistics sum's. */
import { describe, expect, test } from '@jest/globals';
import { bytes, type HarnessRef, seedFederation } from './fixtures';

const contribution = (federationId: string, siteId: string, fill = 1) => ({
  federationId,
  siteId,
  masked: bytes(32, fill),
  createdAt: '2026-01-01T00:00:05.000Z',
});

export function recalibrationContract(h: HarnessRef): void {
  describe('recalibration contributions', () => {
    test('accept once, duplicate or conflict after; ordered by site; kept apart from the statistics contributions', async () => {
      await seedFederation(h.store, 'fed-1', 0);
      const b = contribution('fed-1', 'site-b', 2);
      const a = contribution('fed-1', 'site-a', 1);
      expect(await h.store.putRecalibrationContribution(b)).toEqual({ status: 'accepted' });
      expect(await h.store.putRecalibrationContribution(a)).toEqual({ status: 'accepted' });
      expect(await h.store.putRecalibrationContribution({ ...a, createdAt: '2026-01-01T00:00:09.000Z' })).toEqual({
        status: 'duplicate',
        existing: a,
      });
      expect(await h.store.putRecalibrationContribution(contribution('fed-1', 'site-a', 9))).toEqual({
        status: 'conflict',
        existing: a,
      });
      // The same site's statistics contribution is another sum's: accepted, and neither list shows the other.
      expect(await h.store.putStatsContribution(contribution('fed-1', 'site-a', 5))).toEqual({ status: 'accepted' });
      await expect(h.store.putRecalibrationContribution(contribution('nope', 'site-a'))).rejects.toMatchObject({
        code: 'UNKNOWN_FEDERATION',
      });
      const s = await h.again();
      expect(await s.listRecalibrationContributions('fed-1')).toEqual([a, b]);
      expect(await s.listStatsContributions('fed-1')).toEqual([contribution('fed-1', 'site-a', 5)]);
      expect(await s.listRecalibrationContributions('other')).toEqual([]);
    });
  });
}
