import { silentLogger } from '@twinfed/shared';
import { MemoryStore, type Store } from '../store';
import { DriverLeases, driverLeaseName } from './driver-leases';

const TTL = 900;
const POLL = 100;

/** A replica's driver leases on a shared store, with its own clock, recording what it was told. */
function replica(store: Store, holder: string, clock: () => number) {
  const calls: string[] = [];
  const leases = new DriverLeases({
    store,
    holder,
    ttlMs: TTL,
    pollMs: POLL,
    logger: silentLogger(),
    clock,
    onAcquired: async (fid, how) => {
      calls.push(`acquired ${fid} ${how}`);
    },
    onLost: (fid) => calls.push(`lost ${fid}`),
    onTick: (fid) => calls.push(`tick ${fid}`),
  });
  return { leases, calls };
}

async function federation(store: Store, id: string, state: 'running' | 'completed' = 'running'): Promise<void> {
  await store.createFederation({ id, name: id, plan: {}, state, createdAt: new Date(0).toISOString() });
}

describe('driver leases', () => {
  let store: Store;
  let now: number;
  const clock = () => now;

  beforeEach(async () => {
    jest.useFakeTimers();
    store = new MemoryStore();
    now = 1_000_000;
    await federation(store, 'fed-1');
    await federation(store, 'fed-2');
    await federation(store, 'fed-done', 'completed');
  });
  afterEach(async () => {
    jest.useRealTimers();
    await store.close();
  });

  /** Advances the timers and this test's clock together. */
  async function advance(ms: number): Promise<void> {
    for (let left = ms; left > 0; left -= 10) {
      now += Math.min(10, left);
      await jest.advanceTimersByTimeAsync(Math.min(10, left));
    }
  }

  test('alone, a replica takes the lease of every running federation at start and drives each', async () => {
    const a = replica(store, 'a', clock);
    await a.leases.start();
    expect(a.calls).toEqual(['acquired fed-1 start', 'acquired fed-2 start']);
    expect(a.leases.driven).toEqual(['fed-1', 'fed-2']);
    expect(a.leases.drives('fed-done')).toBe(false);
    expect(a.leases.fence('fed-1')).toEqual({ lease: 'driver:fed-1', token: 1, now });
    await a.leases.stop();
  });

  test('renews every third of the TTL: the lease outlives its TTL many times with the same token', async () => {
    const a = replica(store, 'a', clock);
    await a.leases.start();
    await advance(5 * TTL);
    expect(a.leases.drives('fed-1')).toBe(true);
    const lease = (await store.getLease(driverLeaseName('fed-1')))!;
    expect(lease).toMatchObject({ holder: 'a', token: 1 });
    expect(lease.expiresAt).toBeGreaterThan(now);
    expect(a.calls.filter((c) => c.startsWith('lost'))).toEqual([]);
    // Driven federations are ticked on each poll (to notice updates other replicas stored).
    expect(a.calls.filter((c) => c === 'tick fed-1').length).toBeGreaterThan(10);
    await a.leases.stop();
  });

  test('a replica whose federations another one drives waits, then takes over an expired lease with a greater token', async () => {
    // A replica that took the lease and then died (no renewals).
    await store.acquireLease({ name: driverLeaseName('fed-1'), holder: 'dead', ttlMs: TTL, now });
    const b = replica(store, 'b', clock);
    await b.leases.start();
    expect(b.calls).toEqual(['acquired fed-2 start']);
    expect(b.leases.drives('fed-1')).toBe(false);
    expect(b.leases.fence('fed-1').token).toBe(0); // any fenced write would be refused
    await advance(TTL - 50);
    expect(b.leases.drives('fed-1')).toBe(false);
    await advance(50 + POLL);
    expect(b.calls).toContain('acquired fed-1 takeover');
    expect(b.leases.drives('fed-1')).toBe(true);
    expect(await store.getLease(driverLeaseName('fed-1'))).toMatchObject({ holder: 'b', token: 2 });
    await b.leases.stop();
  });

  test('a failed renewal (the lease was taken over) stops the driving at once, and the replica does not take it back', async () => {
    const a = replica(store, 'a', clock);
    await a.leases.start();
    // Another replica takes fed-1 over (as after a pause of `a` past its TTL).
    await store.acquireLease({ name: driverLeaseName('fed-1'), holder: 'b', ttlMs: 10 * TTL, now, takeFrom: 'a' });
    await advance(TTL / 3 + 10);
    expect(a.calls).toContain('lost fed-1');
    expect(a.leases.drives('fed-1')).toBe(false);
    expect(a.leases.drives('fed-2')).toBe(true);
    await advance(3 * TTL);
    expect(a.calls.filter((c) => c.endsWith('fed-1 takeover'))).toEqual([]);
    expect(await store.getLease(driverLeaseName('fed-1'))).toMatchObject({ holder: 'b', token: 2 });
    await a.leases.stop();
  });

  test('LEASE_LOST reported by the engine stops the driving; the replica takes the lease again only once it is free', async () => {
    const a = replica(store, 'a', clock);
    await a.leases.start();
    await store.acquireLease({ name: driverLeaseName('fed-1'), holder: 'b', ttlMs: TTL, now, takeFrom: 'a' });
    a.leases.lost('fed-1');
    expect(a.calls).toContain('lost fed-1');
    expect(a.leases.drives('fed-1')).toBe(false);
    await advance(TTL + POLL + 10); // b never renews: its lease expires and a takes it over
    expect(a.calls).toContain('acquired fed-1 takeover');
    expect(await store.getLease(driverLeaseName('fed-1'))).toMatchObject({ holder: 'a', token: 3 });
    await a.leases.stop();
  });

  test('a restarted replica takes its own former leases back at once, fencing its former self off', async () => {
    const first = replica(store, 'a', clock);
    await first.leases.start();
    const again = replica(store, 'a', clock);
    await again.leases.start();
    expect(again.calls).toEqual(['acquired fed-1 start', 'acquired fed-2 start']);
    expect(again.leases.fence('fed-1').token).toBe(2);
    await advance(TTL / 3 + 10);
    expect(first.calls).toEqual(expect.arrayContaining(['lost fed-1', 'lost fed-2']));
    await again.leases.stop();
    await first.leases.stop();
  });

  test('stop releases every lease, so another replica takes over on its next poll', async () => {
    const a = replica(store, 'a', clock);
    const b = replica(store, 'b', clock);
    await a.leases.start();
    await b.leases.start();
    expect(b.calls).toEqual([]);
    await a.leases.stop();
    await advance(POLL + 10);
    expect(b.calls).toEqual(expect.arrayContaining(['acquired fed-1 takeover', 'acquired fed-2 takeover']));
    await b.leases.stop();
  });

  test('claims the lease of a federation it just created; an ended federation is let go', async () => {
    const a = replica(store, 'a', clock);
    await a.leases.start();
    await federation(store, 'fed-new');
    expect(await a.leases.claim('fed-new')).toBe(true);
    expect(a.leases.drives('fed-new')).toBe(true);
    await store.updateFederation('fed-new', { state: 'completed' });
    await advance(POLL + 10);
    expect(a.leases.drives('fed-new')).toBe(false);
    expect(await store.getLease(driverLeaseName('fed-new'))).toMatchObject({ holder: 'a', expiresAt: 0 });
    await a.leases.stop();
  });
});
