import { keyInUse, alreadyExists, storeClosed } from '../errors';
import type { NewAuditEntry } from '../records';
import type { StoreLifecycle } from '../types';
import { appendAudit } from './audit';
import { pgCode, pgConstraint, type PgDb, type Sql } from './db';

/** A Buffer view for binding (no copy). */
export function toBytea(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A plain Uint8Array copy of a bytea read from PostgreSQL. */
export function fromBytea(value: Buffer): Uint8Array {
  return new Uint8Array(value);
}

/** The partial unique indexes on site keys (a violation is KEY_IN_USE, as the SQLite store reports). */
const SITE_KEY_INDEXES = new Set(['sites_sign_public_key', 'sites_box_public_key']);

/** Runs an insert, turning primary-key and unique violations into ALREADY_EXISTS (site keys: KEY_IN_USE). */
export async function insertUnique<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (pgCode(e) === '23505') throw SITE_KEY_INDEXES.has(pgConstraint(e) ?? '') ? keyInUse() : alreadyExists(what);
    throw e;
  }
}

/** One JSON value as stored (text, like SQLite), parsed. */
export function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

/**
 * What every PostgreSQL domain part shares: the pool (until close) and audited writes. A write that changes more than
 * one row runs in one transaction (READ COMMITTED; the rows it reads and then changes are locked FOR UPDATE / FOR SHARE
 * where another coordinator process could change them in between).
 */
export class PgContext {
  private live: PgDb | null;

  constructor(db: PgDb) {
    this.live = db;
  }

  /** The pool; throws NOT_READY after close. */
  get db(): PgDb {
    if (!this.live) throw storeClosed();
    return this.live;
  }

  /** Autocommit statements on the pool. */
  get sql(): Sql {
    return this.db.sql;
  }

  tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.db.tx(fn);
  }

  /** Runs a write in one transaction and, when `done(result)` says it took effect, appends `entry` in it. */
  audited<X>(
    entry: NewAuditEntry | undefined,
    write: (sql: Sql) => Promise<X>,
    done: (result: X) => boolean = () => true,
  ): Promise<X> {
    return this.tx(async (sql) => {
      const result = await write(sql);
      if (entry && done(result)) await appendAudit(sql, entry);
      return result;
    });
  }

  async health(): Promise<boolean> {
    if (!this.live) return false;
    try {
      await this.live.sql.count(
        'INSERT INTO health_probe (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = EXCLUDED.at',
        [new Date().toISOString()],
      );
      return true;
    } catch {
      return false;
    }
  }

  /** Closes the pool (idempotent); queries in flight finish first. */
  async close(): Promise<void> {
    const db = this.live;
    this.live = null;
    await db?.close();
  }
}

export function lifecycle(x: PgContext): StoreLifecycle {
  return {
    health: () => x.health(),
    close: () => x.close(),
  };
}
