import type { Migration } from './types';

/** Masked secure-sum contributions of a Cox federation's Breslow baseline: one per (federation, site). */
export const migration016: Migration = {
  version: 16,
  name: 'baseline-contributions',
  sql: `
CREATE TABLE baseline_contributions (
  federation_id TEXT NOT NULL REFERENCES federations (id),
  site_id TEXT NOT NULL,
  masked BLOB NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (federation_id, site_id)
);
`,
};
