import { createAdapter } from '@socket.io/redis-adapter';
import type { RedisConnections } from './client';

/** The socket.io adapter factory that carries broadcasts between replicas. */
type PushAdapter = ReturnType<typeof createAdapter>;

/**
 * socket.io's Redis pub/sub adapter over the coordinator's connections: a broadcast on one replica (`round:opened`,
 * …, a revoked site's disconnection) is published on `<prefix>socket.io#…` channels and delivered by every replica
 * to its own sockets. Delivery is at most once; a site that missed an event still polls. This module is the only
 * importer of the adapter.
 */
export function redisPushAdapter(redis: RedisConnections, prefix: string): PushAdapter {
  return createAdapter(redis.pub, redis.sub, { key: `${prefix}socket.io` });
}
