import type { Federation, Round, Site } from '../records';
import type { SqlContext } from './context';

/** A round's row as cached: its selection parsed and frozen, its client configuration as text (parsed per read: a copy). */
export interface CachedRound {
  round: Omit<Round, 'selectedSiteIds' | 'clientConfig'>;
  selectedSiteIds: readonly string[];
  clientConfig: string;
}

/** Rows of one table kept by key, the oldest out first beyond `capacity`. */
class Rows<T> {
  private readonly rows = new Map<string, T>();

  constructor(private readonly capacity: number) {}

  get(key: string): T | undefined {
    return this.rows.get(key);
  }

  set(key: string, row: T): void {
    if (!this.rows.has(key) && this.rows.size >= this.capacity) this.rows.delete(this.rows.keys().next().value!);
    this.rows.set(key, row);
  }

  delete(key: string): void {
    this.rows.delete(key);
  }

  clear(): void {
    this.rows.clear();
  }
}

/**
 * The rows every signed site request reads — its site, its federation, the round with its selection, and the number
 * of updates the round holds (a `COUNT(*)` over its updates at every poll of the round) — served from memory between
 * writes. Correct against every writer of the database file:
 *
 * - This connection's writes drop the rows they touch (each write of those tables deletes its key, committed or
 *   not); nothing is read from or stored into the cache inside a transaction, so uncommitted or rolled-back rows are
 *   never kept.
 * - Any other connection's commit (an admin command, a replica, another process) changes SQLite's `PRAGMA
 *   data_version` on this connection; it is read before every read the cache serves, and a change drops every row.
 *   So a read begun after another connection's commit sees it, as a read of the database itself would. The check is
 *   a read transaction (file locks: about what reading a small row costs); what the cache saves is the row itself —
 *   the round's 30 kB selection read, hashed and copied, the federation's plan text — and the parsing.
 */
class ReadCache {
  readonly sites = new Rows<Site>(100_000);
  readonly federations = new Rows<Federation>(1_000);
  /** Rounds carry their selection (30 kB of ids at 1,000 sites): only the latest few. */
  readonly rounds = new Rows<CachedRound>(64);
  /** Updates stored per round ({@link roundKey}); an insert of an update deletes its round's key. */
  readonly updateCounts = new Rows<number>(64);
  private dataVersion: unknown = undefined;

  /**
   * Whether rows may be served from and kept in the cache now: not inside a transaction, and after dropping every row
   * if another connection committed since the last check.
   */
  usable(c: SqlContext): boolean {
    if (c.db.inTransaction) return false;
    const version = c.stmt('PRAGMA data_version').pluck().get();
    if (version !== this.dataVersion) {
      this.clear();
      this.dataVersion = version;
    }
    return true;
  }

  clear(): void {
    this.sites.clear();
    this.federations.clear();
    this.rounds.clear();
    this.updateCounts.clear();
  }
}

const caches = new WeakMap<SqlContext['db'], ReadCache>();

/** The read cache of this connection. */
export function readCache(c: SqlContext): ReadCache {
  let cache = caches.get(c.db);
  if (!cache) {
    cache = new ReadCache();
    caches.set(c.db, cache);
  }
  return cache;
}

/**
 * A row through this connection's read cache: served from the table's cached rows when the cache may serve
 * ({@link ReadCache.usable}), otherwise read with `read` and kept when it may. The caller copies what it hands out.
 */
export function throughCache<T>(
  c: SqlContext,
  table: (cache: ReadCache) => Rows<T>,
  key: string,
  read: () => T | undefined,
): T | undefined {
  const cache = readCache(c);
  const usable = cache.usable(c);
  const rows = table(cache);
  const hit = usable ? rows.get(key) : undefined;
  if (hit !== undefined) return hit;
  const row = read();
  if (usable && row !== undefined) rows.set(key, row);
  return row;
}

/** The key of a round's row. */
export function roundKey(federationId: string, round: number): string {
  return `${federationId}\u0000${round}`;
}
