import type { RedisConnections } from './client';

/**
 * Calls `fn(key)` at once, then at most once per `intervalMs` per key: calls in between are folded into one call at
 * the end of the interval (nothing asked for is dropped, only merged).
 */
export function throttlePerKey(
  intervalMs: number,
  fn: (key: string) => void,
): { call(key: string): void; stop(): void } {
  const timers = new Map<string, { timer: NodeJS.Timeout; pending: boolean }>();
  const arm = (key: string) => {
    const entry = {
      pending: false,
      timer: setTimeout(() => {
        timers.delete(key);
        if (entry.pending) {
          fn(key);
          arm(key);
        }
      }, intervalMs),
    };
    entry.timer.unref();
    timers.set(key, entry);
  };
  return {
    call(key) {
      const entry = timers.get(key);
      if (entry) {
        entry.pending = true;
        return;
      }
      fn(key);
      arm(key);
    },
    stop() {
      for (const { timer } of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}

/** Sender and receiver side of {@link redisDriverNudges}. */
export interface DriverNudges {
  /** This replica stored something for the federation that its driver (maybe another replica) must look at. */
  nudge(federationId: string): void;
  stop(): void;
}

/** At most one nudge per federation per this interval, on each side (uploads of a round arrive in bursts). */
const NUDGE_INTERVAL_MS = 250;

/**
 * Tells the replica that drives a federation that another replica stored an update for it, through Redis pub/sub
 * (`<prefix>driver-nudge`, the federation id as message): every replica subscribes and, when it drives that
 * federation, runs its catch-up poll at once instead of on its next tick. A hint only: delivery is at most once
 * and the periodic poll (TWINFED_CATCH_UP_POLL_MS) stays the fallback while Redis is away. This module shares the
 * socket.io adapter's connections (the adapter ignores channels that are not its own).
 */
export function redisDriverNudges(
  redis: Pick<RedisConnections, 'pub' | 'sub'>,
  prefix: string,
  onNudge: (federationId: string) => void,
): DriverNudges {
  const channel = `${prefix}driver-nudge`;
  const received = throttlePerKey(NUDGE_INTERVAL_MS, onNudge);
  const sent = throttlePerKey(NUDGE_INTERVAL_MS, (fid) => void redis.pub.publish(channel, fid).catch(() => undefined));
  const listener = (ch: string, message: string) => {
    if (ch === channel) received.call(message);
  };
  redis.sub.on('message', listener);
  void redis.sub.subscribe(channel).catch(() => undefined);
  return {
    nudge: (fid) => sent.call(fid),
    stop() {
      redis.sub.off('message', listener);
      sent.stop();
      received.stop();
    },
  };
}
