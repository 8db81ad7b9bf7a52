import type { PgMigration } from './types';

/**
 * Leases with fencing tokens (SQLite's 013): one per federation, naming the replica that drives its rounds. A row is
 * never deleted, so a lease's token only grows. Times are epoch milliseconds.
 */
export const migration003: PgMigration = {
  version: 3,
  name: 'leases',
  sql: `
CREATE TABLE leases (
  name TEXT COLLATE "C" PRIMARY KEY,
  holder TEXT COLLATE "C" NOT NULL,
  token BIGINT NOT NULL CHECK (token >= 1),
  expires_at BIGINT NOT NULL
);
`,
};
