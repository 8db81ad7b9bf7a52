import { openSqlite, type Db } from '@twinfed/sqlite-kit';
import { TWIN_MIGRATIONS, type TwinMigration } from './migrations';

const OWNER = { schema: 'twin store schema', app: 'site client' };

interface OpenTwinDatabaseOptions {
  /** File path, or ':memory:' (no file, no WAL). */
  path: string;
  /** SQLite busy timeout in ms (default 5000). */
  busyTimeoutMs?: number;
  /** Defaults to every twin-store migration. */
  migrations?: readonly TwinMigration[];
}

/** Opens the twin database (0600, WAL, synchronous FULL, foreign keys), then pending migrations. */
export function openTwinDatabase(options: OpenTwinDatabaseOptions): Db {
  return openSqlite({
    path: options.path,
    ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
    migrations: options.migrations ?? TWIN_MIGRATIONS,
    owner: OWNER,
  });
}
