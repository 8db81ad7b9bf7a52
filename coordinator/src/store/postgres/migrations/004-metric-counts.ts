import type { PgMigration } from './types';

/** Counts a coordinator replica keeps across restarts for its metrics (SQLite's 014): one row per (replica, name). */
export const migration004: PgMigration = {
  version: 4,
  name: 'metric-counts',
  sql: `
CREATE TABLE metric_counts (
  replica TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  value BIGINT NOT NULL CHECK (value >= 0),
  PRIMARY KEY (replica, name)
);
`,
};
