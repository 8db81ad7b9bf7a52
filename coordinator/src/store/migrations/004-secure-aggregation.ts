import type { Migration } from './types';

/**
 * Secure aggregation (Bonawitz et al.): each site's message per round and phase ('shares': encrypted key shares,
 * 'reveal': unmasking reveal), insert-once; and each round's cohort (the sites whose shares were accepted), fixed once.
 * Payloads are JSON text validated by the engine; site_ids is a JSON array.
 */
export const migration004: Migration = {
  version: 4,
  name: 'secure-aggregation',
  sql: `
CREATE TABLE secagg_messages (
  federation_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  site_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('shares', 'reveal')),
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (federation_id, round, site_id, kind),
  FOREIGN KEY (federation_id, round) REFERENCES rounds (federation_id, round)
);

CREATE TABLE secagg_cohorts (
  federation_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  site_ids TEXT NOT NULL,
  fixed_at TEXT NOT NULL,
  PRIMARY KEY (federation_id, round),
  FOREIGN KEY (federation_id, round) REFERENCES rounds (federation_id, round)
);
`,
};
