/** Contract: idempotent updates per (federation, round, site). */
import { describe, expect, test } from '@jest/globals';
import { bytes, evaluation, type HarnessRef, seedFederation, update, version } from './fixtures';

export function updateContract(h: HarnessRef): void {
  describe('updates', () => {
    test('inserts, then reports duplicate (same digest) or conflict (other digest) without overwriting', async () => {
      await seedFederation(h.store, 'fed-1', 1);
      const u = update('fed-1', 1, 'site-a', 'digest-1');
      expect(await h.store.putUpdate(u)).toEqual({ status: 'inserted' });
      expect(await h.store.putUpdate({ ...u, receivedAt: 'later' })).toEqual({ status: 'duplicate', existing: u });
      const other = { ...update('fed-1', 1, 'site-a', 'digest-2'), envelope: bytes(64, 99) };
      expect(await h.store.putUpdate(other)).toEqual({ status: 'conflict', existing: u });
      const s = await h.again();
      expect(await s.getUpdate('fed-1', 1, 'site-a')).toEqual(u);
      expect(await s.countUpdates('fed-1', 1)).toBe(1);
    });

    test('rejects an update for an unknown round', async () => {
      await seedFederation(h.store, 'fed-1', 1);
      await expect(h.store.putUpdate(update('fed-1', 2, 'site-a'))).rejects.toMatchObject({ code: 'UNKNOWN_ROUND' });
      await expect(h.store.putUpdate(update('nope', 1, 'site-a'))).rejects.toMatchObject({ code: 'UNKNOWN_ROUND' });
    });

    test('with acceptStates: refuses a closed round atomically but still recognises a retry', async () => {
      await seedFederation(h.store, 'fed-1', 1);
      const accept = { acceptStates: ['open' as const, 'collecting' as const] };
      const a = update('fed-1', 1, 'site-a');
      expect(await h.store.putUpdate(a, accept)).toEqual({ status: 'inserted' });
      await h.store.transitionRound({ federationId: 'fed-1', round: 1, from: ['open'], to: 'aggregating' });
      expect(await h.store.putUpdate(update('fed-1', 1, 'site-b'), accept)).toEqual({ status: 'round-closed' });
      expect(await h.store.putUpdate(a, accept)).toEqual({ status: 'duplicate', existing: a });
      expect(await h.store.countUpdates('fed-1', 1)).toBe(1);
      expect(await h.store.putUpdate(update('fed-1', 1, 'site-c'))).toEqual({ status: 'inserted' });
    });

    test('with an evaluation: stored with an inserted update only, in the same write', async () => {
      await seedFederation(h.store, 'fed-1', 1);
      await h.store.publishVersion({ version: version('v0', 'fed-1', 0), weights: bytes(8) });
      const accept = { acceptStates: ['open' as const, 'collecting' as const] };
      const a = update('fed-1', 1, 'site-a');
      const calibration = { ece: 0.05, bins: [{ n: 50, meanPredicted: 0.12, observedRate: 0.1 }] };
      const carried = { ...evaluation('v0', 'site-a', 0.7), calibration };
      expect(await h.store.putUpdate(a, { ...accept, evaluation: carried })).toEqual({ status: 'inserted' });
      // A retry, a conflicting update and an update refused by its round's state store nothing.
      await h.store.putUpdate(a, { ...accept, evaluation: evaluation('v0', 'site-a', 0.1) });
      await h.store.putUpdate(update('fed-1', 1, 'site-a', 'other'), { evaluation: evaluation('v0', 'site-a', 0.2) });
      await h.store.transitionRound({ federationId: 'fed-1', round: 1, from: ['open'], to: 'aggregating' });
      const late = { ...accept, evaluation: evaluation('v0', 'site-b', 0.3) };
      expect(await h.store.putUpdate(update('fed-1', 1, 'site-b'), late)).toEqual({ status: 'round-closed' });
      // An evaluation of an unknown version: neither is written.
      await expect(
        h.store.putUpdate(update('fed-1', 1, 'site-c'), { evaluation: evaluation('nope', 'site-c') }),
      ).rejects.toMatchObject({ code: 'UNKNOWN_MODEL_VERSION' });
      const s = await h.again();
      expect(await s.listEvaluations('v0')).toEqual([carried]);
      expect(await s.hasUpdate('fed-1', 1, 'site-c')).toBe(false);
    });

    test('lists by site id, with and without envelopes, per round', async () => {
      await seedFederation(h.store, 'fed-1', 2);
      const big = { ...update('fed-1', 1, 'site-c'), envelope: bytes(1 << 20, 3) };
      await h.store.putUpdate(big);
      await h.store.putUpdate(update('fed-1', 1, 'site-a'));
      await h.store.putUpdate(update('fed-1', 2, 'site-b'));
      const s = await h.again();
      const listed = await s.listUpdates('fed-1', 1);
      expect(listed.map((u) => u.siteId)).toEqual(['site-a', 'site-c']);
      const { envelope: bigEnvelope, ...bigHeader } = listed[1]!;
      const { envelope: _expected, ...expectedHeader } = big;
      expect(bigHeader).toEqual(expectedHeader);
      expect(bigEnvelope).toBeInstanceOf(Uint8Array);
      expect(Buffer.compare(bigEnvelope, big.envelope)).toBe(0);
      const headers = await s.listUpdateSummaries('fed-1', 1);
      expect(headers.map((u) => u.siteId)).toEqual(['site-a', 'site-c']);
      expect(headers[0]).not.toHaveProperty('envelope');
      const { envelope: _dropped, ...header } = update('fed-1', 1, 'site-a');
      expect(headers[0]).toEqual(header);
      expect(await s.countUpdates('fed-1', 2)).toBe(1);
      expect(await s.countUpdates('fed-1', 3)).toBe(0);
      expect(await s.getUpdate('fed-1', 2, 'site-a')).toBeNull();
      expect(await s.hasUpdate('fed-1', 1, 'site-c')).toBe(true);
      expect(await s.hasUpdate('fed-1', 2, 'site-a')).toBe(false);
      expect(await s.hasUpdate('fed-1', 1, 'site-b')).toBe(false);
      expect(await s.hasUpdate('fed-2', 1, 'site-a')).toBe(false);
    });
  });
}
