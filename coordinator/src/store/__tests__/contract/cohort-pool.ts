/** Contract: insert-once secure pools of cohort queries, their masked vectors per (query, site), closing once. */
import { describe, expect, test } from '@jest/globals';
import type { CohortPoolRecord } from '../../types';
import { bytes, type HarnessRef, t } from './fixtures';

const pool = (queryId: string, over: Partial<CohortPoolRecord> = {}): CohortPoolRecord => ({
  queryId,
  siteIds: ['site-a', 'site-b', 'site-c'],
  length: 3,
  state: 'open',
  result: null,
  createdAt: t(3),
  ...over,
});

const contribution = (queryId: string, siteId: string, fill = 1) => ({
  queryId,
  siteId,
  masked: bytes(24, fill),
  createdAt: t(4),
});

async function seedQuery(h: HarnessRef, id: string): Promise<void> {
  await h.store.createCohortQuery({
    id,
    studyId: 'default',
    query: { title: id, source: { kind: 'csv' }, groupBy: [], counts: true },
    createdBy: 'operator:op',
    createdAt: t(1),
  });
}

export function cohortPoolContract(h: HarnessRef): void {
  describe('cohort pools', () => {
    test('a pool is fixed once per query: the first record wins; an unknown query is NOT_FOUND', async () => {
      await seedQuery(h, 'cq-1');
      expect(await h.store.getCohortPool('cq-1')).toBeNull();
      expect(await h.store.fixCohortPool(pool('cq-1'))).toEqual(pool('cq-1'));
      expect(await h.store.fixCohortPool(pool('cq-1', { siteIds: ['site-x'], state: 'failed' }))).toEqual(pool('cq-1'));
      await expect(h.store.fixCohortPool(pool('cq-none'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      const s = await h.again();
      expect(await s.getCohortPool('cq-1')).toEqual(pool('cq-1'));
      expect(await s.getCohortPool('cq-none')).toBeNull();
    });

    test('contributions are insert-once per (query, site): same bytes duplicate, other bytes conflict', async () => {
      await seedQuery(h, 'cq-1');
      await h.store.fixCohortPool(pool('cq-1'));
      const a = contribution('cq-1', 'site-c', 1);
      expect(await h.store.putCohortPoolContribution(a)).toEqual({ status: 'accepted' });
      expect(await h.store.putCohortPoolContribution({ ...a, createdAt: t(8) })).toEqual({
        status: 'duplicate',
        existing: a,
      });
      expect(await h.store.putCohortPoolContribution(contribution('cq-1', 'site-c', 9))).toEqual({
        status: 'conflict',
        existing: a,
      });
      await h.store.putCohortPoolContribution(contribution('cq-1', 'site-a', 2));
      await expect(h.store.putCohortPoolContribution(contribution('cq-2', 'site-a'))).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      const s = await h.again();
      expect(await s.listCohortPoolContributions('cq-1')).toEqual([contribution('cq-1', 'site-a', 2), a]);
      expect(await s.listCohortPoolContributions('other')).toEqual([]);
    });

    test('a pool closes once; a closed pool takes no new vector but answers a re-sent one as duplicate', async () => {
      await seedQuery(h, 'cq-1');
      await h.store.fixCohortPool(pool('cq-1'));
      const a = contribution('cq-1', 'site-a');
      await h.store.putCohortPoolContribution(a);
      const done = await h.store.closeCohortPool('cq-1', 'complete', { cells: [] });
      expect(done).toEqual(pool('cq-1', { state: 'complete', result: { cells: [] } }));
      expect(await h.store.closeCohortPool('cq-1', 'failed', { code: 'X' })).toEqual(done);
      expect(await h.store.putCohortPoolContribution({ ...a, createdAt: t(9) })).toEqual({
        status: 'duplicate',
        existing: a,
      });
      expect(await h.store.putCohortPoolContribution(contribution('cq-1', 'site-b'))).toEqual({
        status: 'closed',
        pool: done,
      });
      await expect(h.store.closeCohortPool('cq-9', 'failed', {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
      const s = await h.again();
      expect(await s.getCohortPool('cq-1')).toEqual(done);
      expect((await s.listCohortPoolContributions('cq-1')).map((c) => c.siteId)).toEqual(['site-a']);
    });

    test('a pool may be fixed failed from the start, with its result', async () => {
      await seedQuery(h, 'cq-1');
      const failed = pool('cq-1', { siteIds: ['site-a'], state: 'failed', result: { code: 'COHORT_TOO_SMALL' } });
      expect(await h.store.fixCohortPool(failed)).toEqual(failed);
      expect(await h.store.putCohortPoolContribution(contribution('cq-1', 'site-a'))).toEqual({
        status: 'closed',
        pool: failed,
      });
      expect(await (await h.again()).getCohortPool('cq-1')).toEqual(failed);
    });
  });
}
