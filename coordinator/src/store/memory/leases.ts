/** In memory: leases with fencing tokens, and the fence check of fenced writes. */
import { leaseLost } from '../errors';
import type { Lease, LeaseFence } from '../records';
import type { LeaseStore } from '../types';
import type { MemoryContext } from './context';
import type { MemoryState } from './state';

/** Throws LEASE_LOST unless the fence's lease has its token and has not expired; call before writing anything. */
export function checkFence(s: MemoryState, fence: LeaseFence | undefined): void {
  if (!fence) return;
  const lease = s.leases.get(fence.lease);
  if (!lease || lease.token !== fence.token || lease.expiresAt <= fence.now) throw leaseLost(fence.lease);
}

export function leases(x: MemoryContext): LeaseStore {
  return {
    async acquireLease({ name, holder, ttlMs, now, takeFrom }) {
      const s = x.s;
      const current = s.leases.get(name);
      if (current && current.expiresAt > now && (takeFrom === undefined || current.holder !== takeFrom)) return null;
      const next: Lease = { name, holder, token: (current?.token ?? 0) + 1, expiresAt: now + ttlMs };
      s.leases.set(name, next);
      return { token: next.token, expiresAt: next.expiresAt };
    },

    async renewLease({ name, holder, token, ttlMs, now }) {
      const s = x.s;
      const current = s.leases.get(name);
      if (!current || current.holder !== holder || current.token !== token || current.expiresAt <= now) return null;
      s.leases.set(name, { ...current, expiresAt: now + ttlMs });
      return { expiresAt: now + ttlMs };
    },

    async releaseLease({ name, holder, token }) {
      const s = x.s;
      const current = s.leases.get(name);
      if (!current || current.holder !== holder || current.token !== token || current.expiresAt === 0) return false;
      s.leases.set(name, { ...current, expiresAt: 0 });
      return true;
    },

    async getLease(name) {
      const lease = x.s.leases.get(name);
      return lease ? { ...lease } : null;
    },
  };
}
