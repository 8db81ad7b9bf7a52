import { openSqlite, runMigrations as runKitMigrations, type Db, type Migration } from '@twinfed/sqlite-kit';
import { MIGRATIONS } from '../migrations';

const OWNER = { schema: 'database schema', app: 'coordinator' };

export interface OpenDatabaseOptions {
  /** File path, or ':memory:' (no file, no WAL). */
  path: string;
  /** SQLite busy timeout in ms (default 5000). */
  busyTimeoutMs?: number;
  /** Defaults to every migration of this package. */
  migrations?: readonly Migration[];
}

/** Opens the coordinator's database (0600, WAL, synchronous FULL, foreign keys) and applies pending migrations. */
export function openDatabase(options: OpenDatabaseOptions): Db {
  return openSqlite({
    path: options.path,
    ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
    migrations: options.migrations ?? MIGRATIONS,
    owner: OWNER,
  });
}

/** Applies pending migrations; returns the versions applied. Refuses a database newer than this coordinator. */
export function runMigrations(db: Db, migrations: readonly Migration[]): number[] {
  return runKitMigrations(db, migrations, OWNER);
}
