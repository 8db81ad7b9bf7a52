import type { Migration } from './types';

/**
 * Secure pooling of cohort statistics: one pool per query (its fixed cohort, vector length, state and result) and
 * one masked vector per pool and site.
 */
export const migration012: Migration = {
  version: 12,
  name: 'cohort-pools',
  sql: `
CREATE TABLE cohort_pools (
  query_id TEXT PRIMARY KEY REFERENCES cohort_queries (id),
  site_ids TEXT NOT NULL,
  length INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'complete', 'failed')),
  result TEXT,
  created_at TEXT NOT NULL
);
CREATE TABLE cohort_pool_contributions (
  query_id TEXT NOT NULL REFERENCES cohort_pools (query_id),
  site_id TEXT NOT NULL,
  masked BLOB NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (query_id, site_id)
);
`,
};
