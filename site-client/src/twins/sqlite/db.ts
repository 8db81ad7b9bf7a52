import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { TwinfedError } from '@twinfed/shared';
import { TWIN_MIGRATIONS, type TwinMigration } from './migrations';

export type Db = Database.Database;

export interface OpenTwinDatabaseOptions {
  /** File path, or ':memory:' (no file, no WAL). */
  path: string;
  /** SQLite busy timeout in ms (default 5000). */
  busyTimeoutMs?: number;
  /** Defaults to every twin-store migration. */
  migrations?: readonly TwinMigration[];
}

/** Creates the file with mode 0600 (its directory with 0700) before SQLite touches it; WAL files inherit the mode. */
function prepareFile(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  fs.chmodSync(file, 0o600);
}

/** Opens the twin database: WAL, synchronous FULL, foreign keys, then pending migrations. */
export function openTwinDatabase(options: OpenTwinDatabaseOptions): Db {
  const inMemory = options.path === ':memory:';
  if (!inMemory) prepareFile(options.path);
  const db = new Database(options.path);
  try {
    if (!inMemory) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    runTwinMigrations(db, options.migrations ?? TWIN_MIGRATIONS);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Applies, in one immediate transaction, every migration not yet in `schema_migrations`; returns the
 * versions applied. Refuses a database whose schema is newer than the code.
 */
export function runTwinMigrations(db: Db, migrations: readonly TwinMigration[]): number[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const known = sorted[sorted.length - 1]?.version ?? 0;
  const apply = db.transaction((): number[] => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
    const newest = Math.max(0, ...applied);
    if (newest > known) throw new TwinfedError('CONFIG_INVALID', `The twin store schema (v${newest}) is newer than this site client (v${known}).`);
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
