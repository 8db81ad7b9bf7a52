import type { PgMigration } from './types';

/** Text compared and ordered byte by byte, as SQLite's BINARY collation does (ids, ISO times). */
const T = 'TEXT COLLATE "C"';

/** A Cox federation's baseline secure sum (SQLite's 016): one masked vector per (federation, site). */
export const migration006: PgMigration = {
  version: 6,
  name: 'baseline-contributions',
  sql: `
CREATE TABLE baseline_contributions (
  federation_id ${T} NOT NULL REFERENCES federations (id),
  site_id ${T} NOT NULL,
  masked BYTEA NOT NULL,
  created_at ${T} NOT NULL,
  PRIMARY KEY (federation_id, site_id)
);
`,
};
