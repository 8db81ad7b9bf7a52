import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { sha256Hex } from '@twinfed/shared';
import type { FailureCounts } from '../http/auth-failures';
import type { RedisClient } from './client';

/**
 * {@link FailureCounts} in Redis, shared by every replica: rate-limiter-flexible's atomic counter (one Lua script:
 * `SET NX EX` opening the window, `INCRBY`, `PTTL`) under `<prefix>auth-failures:<sha256 of the key>` (hashed: a key
 * may hold an enrollment token's first characters, which have no business in Redis). While Redis is away (the
 * client is not ready, or a command fails or times out) it counts in this process's memory instead (the library's
 * insurance limiter), so guessing stays limited per replica and no request waits for Redis.
 */
export function redisFailureCounts(opts: {
  client: RedisClient;
  prefix: string;
  windowMs: number;
  /** Only decides the library's own "over the limit" flag, which the limiter does not use; any positive number works. */
  maxFailures: number;
}): FailureCounts {
  const duration = Math.max(1, Math.ceil(opts.windowMs / 1000));
  const points = Math.max(1, opts.maxFailures);
  const limiter = new RateLimiterRedis({
    storeClient: opts.client,
    keyPrefix: `${opts.prefix}auth-failures`,
    points,
    duration,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: 'auth-failures', points, duration }),
  });
  const hashed = (key: string) => sha256Hex(key).slice(0, 32);
  return {
    add: async (key) => {
      const res = await limiter.penalty(hashed(key), 1);
      return { failures: res.consumedPoints, resetInMs: Math.max(0, res.msBeforeNext) };
    },
    peek: async (key) => {
      const res = await limiter.get(hashed(key));
      return res ? { failures: res.consumedPoints, resetInMs: Math.max(0, res.msBeforeNext) } : undefined;
    },
  };
}
