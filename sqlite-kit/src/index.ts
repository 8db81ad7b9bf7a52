/**
 * The one owner of better-sqlite3 (the coordinator's store and each site's twin store both use it): opening a
 * database durably, numbered migrations, and a prepared-statement cache with immediate transactions.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { TwinfedError } from '@twinfed/shared';

/** A connection. */
export type Db = Database.Database;
/** A prepared statement. */
type Statement = Database.Statement;
/** The driver itself, for tests that inspect a database file directly (read-only, raw). */
export { Database };

/** A numbered schema migration; versions are applied in ascending order, each exactly once. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Who owns a schema, for the message when a database is newer than the code (e.g. "database schema" / "coordinator"). */
interface SchemaOwner {
  schema: string;
  app: string;
}

/** Options of {@link openSqlite}. */
interface OpenSqliteOptions {
  /** File path, or ':memory:' (no file, no WAL). */
  path: string;
  /** SQLite busy timeout in ms (default 5000). */
  busyTimeoutMs?: number;
  migrations: readonly Migration[];
  owner: SchemaOwner;
}

/** Creates the file with mode 0600 (its directory with 0700) before SQLite touches it; WAL files inherit the mode. */
function prepareFile(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  fs.chmodSync(file, 0o600);
}

/** Opens the database: WAL, synchronous FULL, foreign keys, busy timeout, then pending migrations. */
export function openSqlite(options: OpenSqliteOptions): Db {
  const inMemory = options.path === ':memory:';
  if (!inMemory) prepareFile(options.path);
  const db = new Database(options.path);
  try {
    if (!inMemory) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    runMigrations(db, options.migrations, options.owner);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Applies, in one immediate transaction, every migration not yet recorded in `schema_migrations`; returns the
 * versions applied by this call (empty when the schema was current). Refuses (`CONFIG_INVALID`) a database whose
 * schema is newer than the code.
 */
export function runMigrations(db: Db, migrations: readonly Migration[], owner: SchemaOwner): number[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const known = sorted[sorted.length - 1]?.version ?? 0;
  const apply = db.transaction((): number[] => {
    db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
    const newest = Math.max(0, ...applied);
    if (newest > known)
      throw new TwinfedError(
        'CONFIG_INVALID',
        `The ${owner.schema} (v${newest}) is newer than this ${owner.app} (v${known}).`,
      );
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    const done: number[] = [];
    for (const m of sorted) {
      if (applied.has(m.version)) continue;
      db.exec(m.sql);
      record.run(m.version, m.name, new Date().toISOString());
      done.push(m.version);
    }
    return done;
  });
  return apply.immediate();
}

/** A connection with a prepared-statement cache and immediate transactions. */
export class SqlContext {
  private readonly statements = new Map<string, Statement>();

  constructor(readonly db: Db) {}

  /** The cached prepared statement for this SQL text. */
  stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Runs `fn` in a BEGIN IMMEDIATE transaction (write lock up front; never await inside). */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }
}
