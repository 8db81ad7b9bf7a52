import type { Migration } from './types';

/**
 * Secure aggregation against a lying coordinator: a third kind of message per site and round, 'consistency' (the
 * site's signature over the round as it saw it, before it reveals). SQLite cannot alter a CHECK constraint, so the
 * table is rebuilt with the wider one; rows and the primary key are kept as they are.
 */
export const migration007: Migration = {
  version: 7,
  name: 'secagg-consistency',
  sql: `
CREATE TABLE secagg_messages_v7 (
  federation_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  site_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('shares', 'consistency', 'reveal')),
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (federation_id, round, site_id, kind),
  FOREIGN KEY (federation_id, round) REFERENCES rounds (federation_id, round)
);
INSERT INTO secagg_messages_v7 (federation_id, round, site_id, kind, payload, created_at)
  SELECT federation_id, round, site_id, kind, payload, created_at FROM secagg_messages;
DROP TABLE secagg_messages;
ALTER TABLE secagg_messages_v7 RENAME TO secagg_messages;
`,
};
