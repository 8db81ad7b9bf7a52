import type { PgMigration } from './types';

/** Cross-site evaluations (SQLite's 017): sessions, the sites' answers and results, sealed local models in transit. */
export const migration007: PgMigration = {
  version: 7,
  name: 'cross-site-evaluation',
  sql: `
CREATE TABLE cross_site_sessions (
  federation_id TEXT COLLATE "C" PRIMARY KEY REFERENCES federations (id),
  global_version_id TEXT COLLATE "C" NOT NULL,
  candidates TEXT NOT NULL,
  state TEXT COLLATE "C" NOT NULL CHECK (state IN ('models', 'evaluating', 'complete')),
  opened_at TEXT COLLATE "C" NOT NULL,
  models_deadline_at TEXT COLLATE "C" NOT NULL,
  participants TEXT,
  results_deadline_at TEXT COLLATE "C",
  matrix TEXT,
  closed_at TEXT COLLATE "C"
);
CREATE TABLE cross_site_messages (
  federation_id TEXT COLLATE "C" NOT NULL REFERENCES cross_site_sessions (federation_id),
  site_id TEXT COLLATE "C" NOT NULL,
  kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('answer', 'result')),
  payload TEXT NOT NULL,
  created_at TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (federation_id, site_id, kind)
);
CREATE TABLE cross_site_boxes (
  federation_id TEXT COLLATE "C" NOT NULL REFERENCES cross_site_sessions (federation_id),
  sender TEXT COLLATE "C" NOT NULL,
  recipient TEXT COLLATE "C" NOT NULL,
  nonce BYTEA NOT NULL,
  ciphertext BYTEA NOT NULL,
  PRIMARY KEY (federation_id, recipient, sender)
);
`,
};
