import type { PgMigration } from './types';

/** Secure pooling of cohort statistics (SQLite's 012): one pool per query, one masked vector per pool and site. */
export const migration002: PgMigration = {
  version: 2,
  name: 'cohort-pools',
  sql: `
CREATE TABLE cohort_pools (
  query_id TEXT COLLATE "C" PRIMARY KEY REFERENCES cohort_queries (id),
  site_ids TEXT NOT NULL,
  length INTEGER NOT NULL,
  state TEXT COLLATE "C" NOT NULL CHECK (state IN ('open', 'complete', 'failed')),
  result TEXT,
  created_at TEXT COLLATE "C" NOT NULL
);
CREATE TABLE cohort_pool_contributions (
  query_id TEXT COLLATE "C" NOT NULL REFERENCES cohort_pools (query_id),
  site_id TEXT COLLATE "C" NOT NULL,
  masked BYTEA NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (query_id, site_id)
);
`,
};
