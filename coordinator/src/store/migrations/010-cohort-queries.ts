import type { Migration } from './types';

/** Federated cohort statistics: queries of studies, and one answer (table or refusal) per query and site. */
export const migration010: Migration = {
  version: 10,
  name: 'cohort-queries',
  sql: `
CREATE TABLE cohort_queries (
  id TEXT PRIMARY KEY,
  study_id TEXT NOT NULL REFERENCES studies (id),
  query TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX cohort_queries_study ON cohort_queries (study_id);
CREATE TABLE cohort_answers (
  query_id TEXT NOT NULL REFERENCES cohort_queries (id),
  site_id TEXT NOT NULL,
  answer TEXT NOT NULL,
  digest TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (query_id, site_id)
);
CREATE INDEX cohort_answers_site ON cohort_answers (site_id);
`,
};
