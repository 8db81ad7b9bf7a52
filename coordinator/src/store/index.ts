/**
 * The coordinator's persistence layer: the async {@link Store} interface, its SQLite implementation
 * (the embedded default), its PostgreSQL implementation (several coordinator processes on one database) and an
 * in-memory twin with identical semantics.
 */
import { TwinfedError } from '@twinfed/shared';
import type { StoreLocation } from './location';
import { MemoryStore } from './memory-store';
import { SqliteStore } from './sqlite-store';
import type { Store } from './types';

export * from './types';
export { MemoryStore } from './memory-store';
export { SqliteStore } from './sqlite-store';
export { describeStoreLocation } from './location';

type OpenStoreOptions =
  | Exclude<StoreLocation, { kind: 'sqlite' }>
  | {
      kind: 'sqlite';
      /** The database file (created with mode 0600), or ':memory:'. */
      path?: string;
      /** SQLite busy timeout in ms (default 5000). */
      busyTimeoutMs?: number;
    };

/** Opens a store of the given kind (PostgreSQL's module, and `pg`, load only when asked for). */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.kind === 'memory') return new MemoryStore();
  if (options.kind === 'postgres') {
    const { PostgresStore } = await import('./postgres-store');
    return PostgresStore.open({ url: options.url, schema: options.schema, poolSize: options.poolSize });
  }
  if (!options.path) throw new TwinfedError('CONFIG_INVALID', 'A SQLite store needs a path.');
  return SqliteStore.open({
    path: options.path,
    ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
  });
}
