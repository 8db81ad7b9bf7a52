import type { Migration } from './types';

/** Masked recalibration histograms (plan option `recalibration`): one per (federation, site), as stats_contributions. */
export const migration018: Migration = {
  version: 18,
  name: 'recalibration-contributions',
  sql: `
CREATE TABLE recalibration_contributions (
  federation_id TEXT NOT NULL REFERENCES federations (id),
  site_id TEXT NOT NULL,
  masked BLOB NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (federation_id, site_id)
);
`,
};
