import type { PgMigration } from './types';

/** Text compared and ordered byte by byte, as SQLite's BINARY collation does (ids, ISO times). */
const T = 'TEXT COLLATE "C"';

/** Masked recalibration histograms (SQLite's 018): one per (federation, site), as stats_contributions. */
export const migration008: PgMigration = {
  version: 8,
  name: 'recalibration-contributions',
  sql: `
CREATE TABLE recalibration_contributions (
  federation_id ${T} NOT NULL REFERENCES federations (id),
  site_id ${T} NOT NULL,
  masked BYTEA NOT NULL,
  created_at ${T} NOT NULL,
  PRIMARY KEY (federation_id, site_id)
);
`,
};
