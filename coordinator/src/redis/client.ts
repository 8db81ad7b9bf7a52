import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '@twinfed/shared';

/** The ioredis client type, for the modules that hand a client to a library (the socket.io adapter, the counts). */
export type RedisClient = Redis;

/** The connections one coordinator keeps to its Redis. */
export interface RedisConnections {
  /** Publishes socket.io broadcasts; its commands wait (queued) while Redis is away and never reject. */
  pub: Redis;
  /** Subscribes to the other replicas' broadcasts (resubscribes by itself after a reconnect). */
  sub: Redis;
  /** Shared counters; fails fast while Redis is away (no offline queue, short timeout) so a request never waits. */
  counts: Redis;
  /** True while every connection is up. */
  healthy(): boolean;
  /** Closes every connection (pending commands are dropped). */
  close(): Promise<void>;
}

/** Longest wait between two reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 2000;
/** A counter command that takes longer fails (the caller falls back to its local count). */
const COUNTS_COMMAND_TIMEOUT_MS = 1000;

/** The URL without its password, for logs. */
function redactedUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.href;
}

/**
 * Opens the coordinator's three Redis connections. Nothing here blocks or throws: the connections are made in the
 * background and re-made forever (at most every 2 s) while Redis is away; errors are logged once per change of state
 * (`redis connection lost` / `redis connection ready`), never thrown. This module is the only importer of ioredis.
 */
export function openRedis(opts: { url: string; logger: Logger }): RedisConnections {
  const where = redactedUrl(opts.url);
  const base: RedisOptions = {
    retryStrategy: (times) => Math.min(times * 100, MAX_RECONNECT_DELAY_MS),
    // No error on a reconnect caused by a READONLY reply etc.; a plain reconnect is enough.
    reconnectOnError: () => false,
    connectionName: 'twinfed-coordinator',
  };
  const make = (role: 'pub' | 'sub' | 'counts', extra: RedisOptions): Redis => {
    const client = new Redis(opts.url, { ...base, ...extra });
    let up: boolean | undefined;
    client.on('ready', () => {
      if (up !== true) opts.logger.info({ redis: where, role }, 'redis connection ready');
      up = true;
    });
    client.on('error', (err: Error & { code?: string }) => {
      if (up !== false)
        opts.logger.warn({ redis: where, role, code: err.code, err: err.message }, 'redis connection lost');
      up = false;
    });
    return client;
  };
  // Queued while away, delivered late rather than lost: push events are hints and few.
  const pub = make('pub', { maxRetriesPerRequest: null, enableOfflineQueue: true });
  const sub = make('sub', { maxRetriesPerRequest: null, enableOfflineQueue: true });
  const counts = make('counts', {
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    commandTimeout: COUNTS_COMMAND_TIMEOUT_MS,
  });
  // The socket.io adapter publishes, subscribes and unsubscribes without handling the promise: a rejection (the
  // offline queue flushed on close, say) must not become an unhandled rejection that ends the process.
  handleRejections(pub, opts.logger);
  handleRejections(sub, opts.logger);
  const all = [pub, sub, counts];
  return {
    pub,
    sub,
    counts,
    healthy: () => all.every((c) => c.status === 'ready'),
    close: async () => {
      const closeOne = async (c: Redis): Promise<void> => {
        if (c.status !== 'ready') return c.disconnect(); // nothing to say goodbye to: drop the reconnect loop
        await c.quit().catch(() => c.disconnect());
      };
      await Promise.all(all.map(closeOne));
    },
  };
}

/**
 * Marks the promise of every command `client` sends as handled (a rejection is logged at debug); a caller that awaits
 * the command still sees the rejection.
 */
function handleRejections(client: Redis, logger: Logger): void {
  const send = client.sendCommand.bind(client);
  client.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
    const promise: unknown = send(...args);
    if (promise instanceof Promise)
      promise.catch((err: Error) => logger.debug({ command: args[0].name, err: err.message }, 'redis command dropped'));
    return promise;
  };
}
