/**
 * The coordinator's persistence layer: the async {@link Store} interface, its SQLite implementation
 * (the embedded default) and an in-memory twin with identical semantics.
 */
import { TwinfedError } from '@twinfed/shared';
import { MemoryStore } from './memory-store';
import { SqliteStore } from './sqlite-store';
import type { Store } from './types';

export * from './types';
export { MemoryStore } from './memory-store';
export { SqliteStore } from './sqlite-store';

interface OpenStoreOptions {
  kind: 'sqlite' | 'memory';
  /** Required for 'sqlite': the database file (created with mode 0600), or ':memory:'. */
  path?: string;
  /** SQLite busy timeout in ms (default 5000). */
  busyTimeoutMs?: number;
}

/** Opens a store of the given kind. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.kind === 'memory') return new MemoryStore();
  if (!options.path) throw new TwinfedError('CONFIG_INVALID', 'A SQLite store needs a path.');
  return SqliteStore.open({
    path: options.path,
    ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
  });
}
