/** SQLite: leases with fencing tokens, and the fence check of fenced writes (inside the write's transaction). */
import { leaseLost } from '../errors';
import type { Lease, LeaseFence } from '../records';
import type { LeaseStore } from '../types';
import type { SqlContext, SqliteContext } from './context';

const LEASES = 'SELECT name, holder, token, expires_at AS expiresAt FROM leases';

function getLease(c: SqlContext, name: string): Lease | null {
  return (c.stmt(`${LEASES} WHERE name = ?`).get(name) as Lease | undefined) ?? null;
}

/**
 * Throws LEASE_LOST unless the fence's lease has its token and has not expired; call inside the write's transaction,
 * before writing anything, so the check and the write are one atomic step against every other connection.
 */
export function checkFence(c: SqlContext, fence: LeaseFence | undefined): void {
  if (!fence) return;
  const held = c
    .stmt('SELECT 1 FROM leases WHERE name = ? AND token = ? AND expires_at > ?')
    .get(fence.lease, fence.token, fence.now);
  if (held === undefined) throw leaseLost(fence.lease);
}

export function leases(x: SqliteContext): LeaseStore {
  return {
    async acquireLease({ name, holder, ttlMs, now, takeFrom }) {
      const c = x.c;
      return c.tx(() => {
        const current = getLease(c, name);
        if (current && current.expiresAt > now && (takeFrom === undefined || current.holder !== takeFrom)) return null;
        const token = (current?.token ?? 0) + 1;
        const expiresAt = now + ttlMs;
        c.stmt(
          `INSERT INTO leases (name, holder, token, expires_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token,
               expires_at = excluded.expires_at`,
        ).run(name, holder, token, expiresAt);
        return { token, expiresAt };
      });
    },

    async renewLease({ name, holder, token, ttlMs, now }) {
      const expiresAt = now + ttlMs;
      const result = x.c
        .stmt('UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND token = ? AND expires_at > ?')
        .run(expiresAt, name, holder, token, now);
      return result.changes === 1 ? { expiresAt } : null;
    },

    async releaseLease({ name, holder, token }) {
      const result = x.c
        .stmt('UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ? AND token = ? AND expires_at <> 0')
        .run(name, holder, token);
      return result.changes === 1;
    },

    async getLease(name) {
      return getLease(x.c, name);
    },
  };
}
