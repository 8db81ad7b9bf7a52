import type { Migration } from './types';

/** Masked secure-sum contributions (federated normalisation statistics): one per (federation, site). */
export const migration003: Migration = {
  version: 3,
  name: 'stats-contributions',
  sql: `
CREATE TABLE stats_contributions (
  federation_id TEXT NOT NULL REFERENCES federations (id),
  site_id TEXT NOT NULL,
  masked BLOB NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (federation_id, site_id)
);
`,
};
