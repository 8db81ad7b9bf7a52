/**
 * The site's twin store: one async interface ({@link TwinStore}), an SQLite implementation (the default,
 * `twins.db` in the site data dir) and an in-memory twin with identical semantics.
 */
import * as path from 'node:path';
import { MemoryTwinStore } from './memory-store';
import { loadOrCreateSiteSecret } from './site-secret';
import { SqliteTwinStore } from './sqlite-store';
import type { TwinStore } from './store-types';

export type * from './store-types';

/** File name of the twin database inside the site data dir. */
export const TWIN_DB_FILE = 'twins.db';

interface OpenTwinStoreOptions {
  /** 'sqlite' (default) or 'memory'. */
  kind?: 'sqlite' | 'memory';
  /** The site data dir: holds the site secret (created once, mode 0600) and `twins.db`. */
  dataDir: string;
  /** Clock (default Date.now). */
  now?: () => number;
}

/** Opens the site's twin store, creating the site secret on first use. */
export async function openTwinStore(options: OpenTwinStoreOptions): Promise<TwinStore> {
  const secret = loadOrCreateSiteSecret(options.dataDir);
  const now = options.now ? { now: options.now } : {};
  if (options.kind === 'memory') return new MemoryTwinStore({ secret, ...now });
  return SqliteTwinStore.open({ path: path.join(options.dataDir, TWIN_DB_FILE), secret, ...now });
}
