/** PostgreSQL: leases with fencing tokens, and the fence check of fenced writes (inside the write's transaction). */
import { leaseLost } from '../errors';
import type { Lease, LeaseFence } from '../records';
import type { LeaseStore } from '../types';
import type { PgContext } from './context';
import type { Sql } from './db';

const LEASES = 'SELECT name, holder, token, expires_at AS "expiresAt" FROM leases';

/**
 * Throws LEASE_LOST unless the fence's lease has its token and has not expired; call inside the write's transaction,
 * before writing anything. The lease row stays share-locked until the write commits, so a takeover (which updates the
 * row) waits for the fenced write, and a fenced write after a committed takeover sees the new token: never both.
 */
export async function checkFence(sql: Sql, fence: LeaseFence | undefined): Promise<void> {
  if (!fence) return;
  const held = await sql.one('SELECT 1 FROM leases WHERE name = $1 AND token = $2 AND expires_at > $3 FOR SHARE', [
    fence.lease,
    fence.token,
    fence.now,
  ]);
  if (held === undefined) throw leaseLost(fence.lease);
}

export function leases(x: PgContext): LeaseStore {
  return {
    async acquireLease({ name, holder, ttlMs, now, takeFrom }) {
      const expiresAt = now + ttlMs;
      return x.tx(async (sql) => {
        // A new lease: the first insert wins; anyone else finds the row and decides under its lock.
        const created = await sql.count(
          'INSERT INTO leases (name, holder, token, expires_at) VALUES ($1, $2, 1, $3) ON CONFLICT (name) DO NOTHING',
          [name, holder, expiresAt],
        );
        if (created === 1) return { token: 1, expiresAt };
        const current = (await sql.one<Lease>(`${LEASES} WHERE name = $1 FOR UPDATE`, [name])) as Lease;
        if (current.expiresAt > now && (takeFrom === undefined || current.holder !== takeFrom)) return null;
        const token = current.token + 1;
        await sql.count('UPDATE leases SET holder = $2, token = $3, expires_at = $4 WHERE name = $1', [
          name,
          holder,
          token,
          expiresAt,
        ]);
        return { token, expiresAt };
      });
    },

    async renewLease({ name, holder, token, ttlMs, now }) {
      const expiresAt = now + ttlMs;
      const changed = await x.sql.count(
        'UPDATE leases SET expires_at = $1 WHERE name = $2 AND holder = $3 AND token = $4 AND expires_at > $5',
        [expiresAt, name, holder, token, now],
      );
      return changed === 1 ? { expiresAt } : null;
    },

    async releaseLease({ name, holder, token }) {
      const changed = await x.sql.count(
        'UPDATE leases SET expires_at = 0 WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at <> 0',
        [name, holder, token],
      );
      return changed === 1;
    },

    async getLease(name) {
      return (await x.sql.one<Lease>(`${LEASES} WHERE name = $1`, [name])) ?? null;
    },
  };
}
