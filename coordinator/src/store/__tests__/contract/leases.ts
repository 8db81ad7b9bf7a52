/**
 * Contract: leases with fencing tokens (acquire, renew, release, takeover of an expired lease) and the fence on every
 * state-changing write of the round machine: a write whose lease no longer holds rejects LEASE_LOST and writes nothing.
 */
import { describe, expect, test } from '@jest/globals';
import type { LeaseFence, NewAuditEntry, Store } from '../../types';
import { bytes, type HarnessRef, round, seedFederation, t, version } from './fixtures';

const L = 'driver:fed-1';
const TTL = 10_000;

const audit = (action: string): NewAuditEntry => ({ at: t(0), actor: 'system', action, subject: 'fed-1', detail: {} });

/** Everything a fenced write could change, to prove a refused one changed nothing. */
async function snapshot(store: Store) {
  return {
    federation: await store.getFederation('fed-1'),
    rounds: await store.listRounds('fed-1'),
    versions: await store.listVersions(),
    strategy: await store.getStrategyState('fed-1'),
    cohort: await store.getSecaggCohort('fed-1', 1),
    audit: await store.listAudit({ limit: 1000 }),
  };
}

async function expectLeaseLost(h: HarnessRef, write: () => Promise<unknown>): Promise<void> {
  const before = await snapshot(h.store);
  await expect(write()).rejects.toMatchObject({ code: 'LEASE_LOST' });
  expect(await snapshot(await h.again())).toEqual(before);
}

/** The fenced writes of the round machine, each given a fence (fed-1 with round 1 open and version v0). */
const fencedWrites: Array<[string, (s: Store, fence: LeaseFence) => Promise<unknown>]> = [
  [
    'transitionRound',
    (s, fence) =>
      s.transitionRound({
        federationId: 'fed-1',
        round: 1,
        from: ['open'],
        to: 'aggregating',
        audit: audit('round.close'),
        fence,
      }),
  ],
  ['createRound', (s, fence) => s.createRound(round('fed-1', 2, { baseVersionId: 'v0' }), audit('round.open'), fence)],
  ['updateFederation', (s, fence) => s.updateFederation('fed-1', { currentRound: 1, updatedAt: t(5) }, fence)],
  [
    'publishVersion',
    (s, fence) =>
      s.publishVersion({
        version: version('v1', 'fed-1', 1, 'v0'),
        weights: bytes(32, 1),
        strategyState: bytes(3, 2),
        round: { federationId: 'fed-1', round: 1, from: ['open'] },
        audit: audit('version.publish'),
        fence,
      }),
  ],
  [
    'fixSecaggCohort',
    (s, fence) => s.fixSecaggCohort({ federationId: 'fed-1', round: 1, siteIds: ['site-a'], fixedAt: t(3) }, fence),
  ],
];

async function seeded(store: Store): Promise<void> {
  await seedFederation(store, 'fed-1', 1);
  await store.publishVersion({ version: version('v0', 'fed-1', 0), weights: bytes(32, 0) });
}

export function leaseContract(h: HarnessRef): void {
  describe('leases', () => {
    test('a free lease is acquired with token 1; while held, nobody else gets it', async () => {
      expect(await h.store.getLease(L)).toBeNull();
      expect(await h.store.acquireLease({ name: L, holder: 'a', ttlMs: TTL, now: 1000 })).toEqual({
        token: 1,
        expiresAt: 11_000,
      });
      expect(await h.store.acquireLease({ name: L, holder: 'b', ttlMs: TTL, now: 10_999 })).toBeNull();
      expect(await h.store.acquireLease({ name: L, holder: 'a', ttlMs: TTL, now: 2000 })).toBeNull();
      const s = await h.again();
      expect(await s.getLease(L)).toEqual({ name: L, holder: 'a', token: 1, expiresAt: 11_000 });
      expect(await s.getLease('driver:other')).toBeNull();
    });

    test('an expired lease is taken over with a greater token; the old holder can no longer renew or release', async () => {
      await h.store.acquireLease({ name: L, holder: 'a', ttlMs: TTL, now: 1000 });
      expect(await h.store.acquireLease({ name: L, holder: 'b', ttlMs: TTL, now: 11_000 })).toEqual({
        token: 2,
        expiresAt: 21_000,
      });
      expect(await h.store.renewLease({ name: L, holder: 'a', token: 1, ttlMs: TTL, now: 11_001 })).toBeNull();
      expect(await h.store.releaseLease({ name: L, holder: 'a', token: 1 })).toBe(false);
      expect(await (await h.again()).getLease(L)).toEqual({ name: L, holder: 'b', token: 2, expiresAt: 21_000 });
    });

    test('renewal extends the lease, keeps the token, and fails once it has expired', async () => {
      await h.store.acquireLease({ name: L, holder: 'a', ttlMs: TTL, now: 1000 });
      expect(await h.store.renewLease({ name: L, holder: 'a', token: 1, ttlMs: TTL, now: 5000 })).toEqual({
        expiresAt: 15_000,
      });
      expect(await h.store.acquireLease({ name: L, holder: 'b', ttlMs: TTL, now: 12_000 })).toBeNull();
      expect(await h.store.renewLease({ name: L, holder: 'a', token: 2, ttlMs: TTL, now: 6000 })).toBeNull();
      expect(await h.store.renewLease({ name: L, holder: 'b', token: 1, ttlMs: TTL, now: 6000 })).toBeNull();
      expect(await h.store.renewLease({ name: L, holder: 'a', token: 1, ttlMs: TTL, now: 15_000 })).toBeNull();
      expect(await (await h.again()).getLease(L)).toEqual({ name: L, holder: 'a', token: 1, expiresAt: 15_000 });
    });

    test('a released lease is free at once and keeps its token, so the next holder gets a greater one', async () => {
      await h.store.acquireLease({ name: L, holder: 'a', ttlMs: TTL, now: 1000 });
      expect(await h.store.releaseLease({ name: L, holder: 'b', token: 1 })).toBe(false);
      expect(await h.store.releaseLease({ name: L, holder: 'a', token: 1 })).toBe(true);
      expect(await h.store.releaseLease({ name: L, holder: 'a', token: 1 })).toBe(false);
      expect(await h.store.getLease(L)).toEqual({ name: L, holder: 'a', token: 1, expiresAt: 0 });
      expect(await h.store.acquireLease({ name: L, holder: 'b', ttlMs: TTL, now: 2000 })).toEqual({
        token: 2,
        expiresAt: 12_000,
      });
    });

    test('takeFrom takes a held lease from that holder only, with a greater token', async () => {
      await h.store.acquireLease({ name: L, holder: 'a', ttlMs: TTL, now: 1000 });
      expect(await h.store.acquireLease({ name: L, holder: 'a', ttlMs: TTL, now: 2000, takeFrom: 'b' })).toBeNull();
      expect(await h.store.acquireLease({ name: L, holder: 'a', ttlMs: TTL, now: 2000, takeFrom: 'a' })).toEqual({
        token: 2,
        expiresAt: 12_000,
      });
      expect(await h.store.renewLease({ name: L, holder: 'a', token: 1, ttlMs: TTL, now: 3000 })).toBeNull();
    });
  });

  describe('fenced writes', () => {
    test.each(fencedWrites)('%s writes while the lease holds with its token', async (_name, write) => {
      await seeded(h.store);
      const { token } = (await h.store.acquireLease({ name: L, holder: 'a', ttlMs: TTL, now: 1000 }))!;
      await expect(write(h.store, { lease: L, token, now: 5000 })).resolves.not.toBeNull();
    });

    test.each(fencedWrites)('%s rejects LEASE_LOST and writes nothing once the lease expired', async (_n, write) => {
      await seeded(h.store);
      const { token } = (await h.store.acquireLease({ name: L, holder: 'a', ttlMs: TTL, now: 1000 }))!;
      await expectLeaseLost(h, () => write(h.store, { lease: L, token, now: 11_000 }));
    });

    test.each(fencedWrites)('%s rejects LEASE_LOST and writes nothing after a takeover', async (_n, write) => {
      await seeded(h.store);
      const { token } = (await h.store.acquireLease({ name: L, holder: 'a', ttlMs: TTL, now: 1000 }))!;
      await h.store.acquireLease({ name: L, holder: 'b', ttlMs: TTL, now: 12_000 });
      // The paused former holder, whose clock says its lease still runs: the token fences it off.
      await expectLeaseLost(h, () => write(h.store, { lease: L, token, now: 5000 }));
    });

    test.each(fencedWrites)('%s rejects LEASE_LOST for a lease that never existed', async (_n, write) => {
      await seeded(h.store);
      await expectLeaseLost(h, () => write(h.store, { lease: L, token: 1, now: 5000 }));
    });
  });
}
