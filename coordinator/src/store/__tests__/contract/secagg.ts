/** Contract: insert-once secure-aggregation messages per (federation, round, site, kind) and each round's fixed cohort. */
import { describe, expect, test } from '@jest/globals';
import type { SecaggKind, SecaggMessageRecord } from '../../types';
import { type HarnessRef, seedFederation, t } from './fixtures';

const message = (
  federationId: string,
  round: number,
  siteId: string,
  kind: SecaggKind,
  payload = `{"from":"${siteId}"}`,
): SecaggMessageRecord => ({
  federationId,
  round,
  siteId,
  kind,
  payload,
  createdAt: t(100 * round + 20),
});

export function secaggContract(h: HarnessRef): void {
  describe('secure aggregation messages', () => {
    test('a burst of messages (the whole cohort at once) stays insert-once in arrival order, and durable', async () => {
      await seedFederation(h.store, 'fed-1', 1);
      const a = message('fed-1', 1, 'site-a', 'reveal');
      const b = message('fed-1', 1, 'site-b', 'reveal');
      // Two bursts: calls made together have no order on a pool of connections (PostgreSQL), so the copies of a and b
      // come in a burst of their own, after the first one.
      const burst = (ms: SecaggMessageRecord[]) => Promise.all(ms.map((m) => h.store.putSecaggMessage(m)));
      const first = await burst([a, b]);
      const again = await burst([
        { ...a, createdAt: t(999) },
        { ...b, payload: '{"other":true}' },
      ]);
      expect([...first, ...again].map((r) => r.status)).toEqual(['accepted', 'accepted', 'duplicate', 'conflict']);
      const s = await h.again();
      expect(await s.listSecaggMessages('fed-1', 1, 'reveal')).toEqual([a, b]);
    });

    test('lists the messages of given sites only, in site order (a neighbourhood), or none of an empty list', async () => {
      await seedFederation(h.store, 'fed-1', 1);
      const [a, b, c] = ['site-a', 'site-b', 'site-c'].map((id) => message('fed-1', 1, id, 'consistency'));
      for (const m of [c!, a!, b!]) await h.store.putSecaggMessage(m);
      await h.store.putSecaggMessage(message('fed-1', 1, 'site-b', 'reveal'));
      expect(await h.store.listSecaggMessages('fed-1', 1, 'consistency', ['site-c', 'site-a', 'site-z'])).toEqual([
        a,
        c,
      ]);
      expect(await h.store.listSecaggMessages('fed-1', 1, 'reveal', ['site-a'])).toEqual([]);
      expect(await h.store.listSecaggMessages('fed-1', 1, 'consistency', [])).toEqual([]);
      expect(await h.store.listSecaggMessages('fed-1', 1, 'consistency')).toEqual([a, b, c]);
    });

    test.each<SecaggKind>(['shares', 'consistency', 'reveal'])(
      '%s: accepts once, then duplicate (same payload) or conflict (other payload), keeping the first',
      async (kind) => {
        await seedFederation(h.store, 'fed-1', 1);
        const a = message('fed-1', 1, 'site-a', kind);
        expect(await h.store.putSecaggMessage(a)).toEqual({ status: 'accepted' });
        expect(await h.store.putSecaggMessage({ ...a, createdAt: t(999) })).toEqual({
          status: 'duplicate',
          existing: a,
        });
        expect(await h.store.putSecaggMessage({ ...a, payload: '{"other":true}', createdAt: t(999) })).toEqual({
          status: 'conflict',
          existing: a,
        });
        const s = await h.again();
        expect(await s.listSecaggMessages('fed-1', 1, kind)).toEqual([a]);
        expect(await s.putSecaggMessage({ ...a, payload: '{"later":1}' })).toEqual({ status: 'conflict', existing: a });
      },
    );

    test('keeps the two kinds independent for one site', async () => {
      await seedFederation(h.store, 'fed-1', 1);
      const shares = message('fed-1', 1, 'site-a', 'shares', '{"shares":[1,2]}');
      const reveal = message('fed-1', 1, 'site-a', 'reveal', '{"reveal":[3]}');
      expect(await h.store.putSecaggMessage(shares)).toEqual({ status: 'accepted' });
      expect(await h.store.putSecaggMessage(reveal)).toEqual({ status: 'accepted' });
      expect(await h.store.putSecaggMessage({ ...reveal, payload: shares.payload })).toEqual({
        status: 'conflict',
        existing: reveal,
      });
      expect(await h.store.putSecaggMessage(shares)).toEqual({ status: 'duplicate', existing: shares });
      const s = await h.again();
      expect(await s.listSecaggMessages('fed-1', 1, 'shares')).toEqual([shares]);
      expect(await s.listSecaggMessages('fed-1', 1, 'reveal')).toEqual([reveal]);
    });

    test('rejects an unknown round or federation, writing nothing', async () => {
      await seedFederation(h.store, 'fed-1', 1);
      await expect(h.store.putSecaggMessage(message('fed-1', 2, 'site-a', 'shares'))).rejects.toMatchObject({
        code: 'UNKNOWN_ROUND',
      });
      await expect(h.store.putSecaggMessage(message('nope', 1, 'site-a', 'reveal'))).rejects.toMatchObject({
        code: 'UNKNOWN_ROUND',
      });
      expect(await h.store.listSecaggMessages('fed-1', 2, 'shares')).toEqual([]);
      expect(await h.store.listSecaggMessages('nope', 1, 'reveal')).toEqual([]);
    });

    test('lists one round and kind ordered by site id', async () => {
      await seedFederation(h.store, 'fed-1', 2);
      await seedFederation(h.store, 'fed-2', 1);
      await h.store.putSecaggMessage(message('fed-1', 1, 'site-c', 'shares'));
      await h.store.putSecaggMessage(message('fed-1', 1, 'site-a', 'shares'));
      await h.store.putSecaggMessage(message('fed-1', 1, 'site-B', 'shares'));
      await h.store.putSecaggMessage(message('fed-1', 1, 'site-b', 'reveal'));
      await h.store.putSecaggMessage(message('fed-1', 2, 'site-d', 'shares'));
      await h.store.putSecaggMessage(message('fed-2', 1, 'site-e', 'shares'));
      const s = await h.again();
      expect((await s.listSecaggMessages('fed-1', 1, 'shares')).map((m) => m.siteId)).toEqual([
        'site-B',
        'site-a',
        'site-c',
      ]);
      expect((await s.listSecaggMessages('fed-1', 1, 'shares'))[2]).toEqual(message('fed-1', 1, 'site-c', 'shares'));
      expect(await s.listSecaggMessages('fed-1', 1, 'reveal')).toEqual([message('fed-1', 1, 'site-b', 'reveal')]);
      expect((await s.listSecaggMessages('fed-1', 2, 'shares')).map((m) => m.siteId)).toEqual(['site-d']);
      expect(await s.listSecaggMessages('fed-1', 2, 'reveal')).toEqual([]);
      expect((await s.listSecaggMessages('fed-2', 1, 'shares')).map((m) => m.siteId)).toEqual(['site-e']);
      expect(await s.listSecaggMessages('fed-1', 3, 'shares')).toEqual([]);
    });

    test('lists and counts the senders of one round and kind, in the order of their messages, without the payloads', async () => {
      await seedFederation(h.store, 'fed-1', 2);
      await seedFederation(h.store, 'fed-2', 1);
      await h.store.putSecaggMessage(message('fed-1', 1, 'site-c', 'shares'));
      await h.store.putSecaggMessage(message('fed-1', 1, 'site-a', 'shares'));
      await h.store.putSecaggMessage(message('fed-1', 1, 'site-B', 'shares'));
      await h.store.putSecaggMessage(message('fed-1', 1, 'site-b', 'reveal'));
      await h.store.putSecaggMessage(message('fed-1', 2, 'site-d', 'consistency'));
      await h.store.putSecaggMessage(message('fed-2', 1, 'site-e', 'shares'));
      const s = await h.again();
      expect(await s.listSecaggSenders('fed-1', 1, 'shares')).toEqual(['site-B', 'site-a', 'site-c']);
      expect(await s.listSecaggSenders('fed-1', 1, 'shares')).toEqual(
        (await s.listSecaggMessages('fed-1', 1, 'shares')).map((m) => m.siteId),
      );
      expect(await s.listSecaggSenders('fed-1', 1, 'reveal')).toEqual(['site-b']);
      expect(await s.listSecaggSenders('fed-1', 1, 'consistency')).toEqual([]);
      expect(await s.listSecaggSenders('fed-1', 2, 'consistency')).toEqual(['site-d']);
      expect(await s.listSecaggSenders('fed-2', 1, 'shares')).toEqual(['site-e']);
      expect(await s.listSecaggSenders('nope', 1, 'shares')).toEqual([]);
      expect(await s.countSecaggMessages('fed-1', 1, 'shares')).toBe(3);
      expect(await s.countSecaggMessages('fed-1', 1, 'reveal')).toBe(1);
      expect(await s.countSecaggMessages('fed-1', 1, 'consistency')).toBe(0);
      expect(await s.countSecaggMessages('fed-1', 2, 'consistency')).toBe(1);
      expect(await s.countSecaggMessages('nope', 1, 'shares')).toBe(0);
    });

    test('does not keep extra fields nor share records with callers', async () => {
      await seedFederation(h.store, 'fed-1', 1);
      const m = { ...message('fed-1', 1, 'site-a', 'shares'), extra: 1 };
      await h.store.putSecaggMessage(m);
      m.payload = 'tampered';
      const [listed] = await h.store.listSecaggMessages('fed-1', 1, 'shares');
      expect(listed).toStrictEqual(message('fed-1', 1, 'site-a', 'shares'));
      listed!.payload = 'tampered';
      expect((await h.store.listSecaggMessages('fed-1', 1, 'shares'))[0]?.payload).toBe(
        message('fed-1', 1, 'site-a', 'shares').payload,
      );
    });
  });

  describe('secure aggregation cohort', () => {
    test('is fixed once: the first record wins and later calls get it back unchanged', async () => {
      await seedFederation(h.store, 'fed-1', 2);
      expect(await h.store.getSecaggCohort('fed-1', 1)).toBeNull();
      const first = { federationId: 'fed-1', round: 1, siteIds: ['site-a', 'site-c'], fixedAt: t(150) };
      expect(await h.store.fixSecaggCohort(first)).toEqual(first);
      expect(
        await h.store.fixSecaggCohort({ ...first, siteIds: ['site-a', 'site-b', 'site-c'], fixedAt: t(151) }),
      ).toEqual(first);
      expect(await h.store.fixSecaggCohort(first)).toEqual(first);
      const s = await h.again();
      expect(await s.getSecaggCohort('fed-1', 1)).toEqual(first);
      expect(await s.fixSecaggCohort({ ...first, siteIds: [], fixedAt: t(152) })).toEqual(first);
      expect(await s.getSecaggCohort('fed-1', 2)).toBeNull();
      expect(await s.getSecaggCohort('nope', 1)).toBeNull();
    });

    test('keeps siteIds as given (order, empty) per round', async () => {
      await seedFederation(h.store, 'fed-1', 2);
      const one = { federationId: 'fed-1', round: 1, siteIds: ['site-b', 'site-a'], fixedAt: t(150) };
      const two = { federationId: 'fed-1', round: 2, siteIds: [], fixedAt: t(250) };
      await h.store.fixSecaggCohort(one);
      await h.store.fixSecaggCohort(two);
      const s = await h.again();
      expect(await s.getSecaggCohort('fed-1', 1)).toEqual(one);
      expect(await s.getSecaggCohort('fed-1', 2)).toEqual(two);
    });

    test('rejects an unknown round or federation', async () => {
      await seedFederation(h.store, 'fed-1', 1);
      await expect(
        h.store.fixSecaggCohort({ federationId: 'fed-1', round: 2, siteIds: ['site-a'], fixedAt: t(1) }),
      ).rejects.toMatchObject({ code: 'UNKNOWN_ROUND' });
      await expect(
        h.store.fixSecaggCohort({ federationId: 'nope', round: 1, siteIds: ['site-a'], fixedAt: t(1) }),
      ).rejects.toMatchObject({ code: 'UNKNOWN_ROUND' });
      expect(await h.store.getSecaggCohort('fed-1', 2)).toBeNull();
    });

    test('concurrent fixes for one round: all get the same single record', async () => {
      await seedFederation(h.store, 'fed-1', 1);
      const results = await Promise.all(
        [['site-a'], ['site-b'], ['site-c']].map((siteIds, i) =>
          h.store.fixSecaggCohort({ federationId: 'fed-1', round: 1, siteIds, fixedAt: t(150 + i) }),
        ),
      );
      expect(results[1]).toEqual(results[0]);
      expect(results[2]).toEqual(results[0]);
      expect(await h.store.getSecaggCohort('fed-1', 1)).toEqual(results[0]);
    });

    test('callers cannot change the stored cohort through inputs or outputs', async () => {
      await seedFederation(h.store, 'fed-1', 1);
      const c = { federationId: 'fed-1', round: 1, siteIds: ['site-a', 'site-b'], fixedAt: t(150) };
      const out = await h.store.fixSecaggCohort(c);
      c.siteIds.push('intruder');
      out.siteIds.push('intruder');
      (await h.store.getSecaggCohort('fed-1', 1))?.siteIds.push('intruder');
      expect((await h.store.getSecaggCohort('fed-1', 1))?.siteIds).toEqual(['site-a', 'site-b']);
    });
  });
}
