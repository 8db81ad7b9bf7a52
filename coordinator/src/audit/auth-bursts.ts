/**
 * Failed-authentication bursts in the audit chain: when the failure limiter trips for an address or a credential,
 * one entry per (kind, key) per minute at most, so a flood cannot flood the chain. Credential keys (token ids,
 * enrollment-token prefixes) are recorded only as a short SHA-256 prefix; addresses as they are.
 */
import { sha256Hex, type Logger } from '@twinfed/shared';
import type { Store } from '../store';

/** What the limiter reports when it trips (starts refusing a key). */
interface AuthFailureTrip {
  /** What was counted: the client address, or a credential (token id, site id, enrollment-token prefix). */
  kind: 'address' | 'credential';
  key: string;
  /** Failures counted in the window when it tripped. */
  failures: number;
}

const MINUTE_MS = 60_000;
const MAX_TRACKED = 10_000;

/** Returns the limiter's `onTrip` callback: never throws, never awaits the limiter (the append runs on its own). */
export function auditAuthFailureBursts(opts: {
  store: Store;
  now: () => number;
  logger: Logger;
}): (trip: AuthFailureTrip) => void {
  const lastMinute = new Map<string, number>();
  return (trip) => {
    const now = opts.now();
    const minute = Math.floor(now / MINUTE_MS);
    const id = `${trip.kind}\u0000${trip.key}`;
    if (lastMinute.get(id) === minute) return;
    if (lastMinute.size >= MAX_TRACKED) lastMinute.clear();
    lastMinute.set(id, minute);
    const subject = trip.kind === 'address' ? `address:${trip.key}` : `credential:${sha256Hex(trip.key).slice(0, 16)}`;
    const at = new Date(now).toISOString();
    opts.store
      .appendAudit({
        at,
        actor: 'public',
        action: 'auth.failure-burst',
        subject,
        detail: { kind: trip.kind, failures: trip.failures },
      })
      .catch((err: unknown) =>
        opts.logger.warn({ err }, 'could not record a failed-authentication burst in the audit log'),
      );
  };
}
