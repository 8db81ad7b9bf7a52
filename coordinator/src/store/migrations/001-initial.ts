import type { Migration } from './types';

/** The initial schema. Times are ISO-8601 UTC text; JSON is text; blobs are BLOB. */
export const migration001: Migration = {
  version: 1,
  name: 'initial',
  sql: `
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('operator', 'researcher')),
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);

CREATE TABLE invitations (
  id TEXT PRIMARY KEY,
  site_name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT,
  site_id TEXT
);

CREATE TABLE sites (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  sign_public_key TEXT NOT NULL,
  box_public_key TEXT NOT NULL,
  enrolled_at TEXT NOT NULL,
  revoked_at TEXT,
  last_seen_at TEXT,
  missed_rounds INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE nonces (
  site_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  PRIMARY KEY (site_id, nonce)
) WITHOUT ROWID;
CREATE INDEX nonces_expires_at ON nonces (expires_at);

CREATE TABLE federations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  plan TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('running', 'completed', 'failed', 'stopped')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  current_round INTEGER NOT NULL,
  latest_version_id TEXT
);

CREATE TABLE rounds (
  federation_id TEXT NOT NULL REFERENCES federations (id),
  round INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'collecting', 'aggregating', 'published', 'failed')),
  base_version_id TEXT NOT NULL,
  selected_site_ids TEXT NOT NULL,
  client_config TEXT NOT NULL,
  opened_at TEXT NOT NULL,
  deadline_at TEXT NOT NULL,
  closed_at TEXT,
  failure_reason TEXT,
  version_id TEXT,
  PRIMARY KEY (federation_id, round)
);

CREATE TABLE updates (
  federation_id TEXT NOT NULL,
  round INTEGER NOT NULL,
  site_id TEXT NOT NULL,
  digest TEXT NOT NULL,
  envelope BLOB NOT NULL,
  num_examples INTEGER NOT NULL,
  metrics TEXT NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (federation_id, round, site_id),
  FOREIGN KEY (federation_id, round) REFERENCES rounds (federation_id, round)
);

CREATE TABLE model_versions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  federation_id TEXT NOT NULL REFERENCES federations (id),
  parent_version_id TEXT,
  round INTEGER NOT NULL,
  meta TEXT NOT NULL,
  signature TEXT NOT NULL,
  weights_sha256 TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX model_versions_federation ON model_versions (federation_id, seq);

CREATE TABLE version_weights (
  version_id TEXT PRIMARY KEY REFERENCES model_versions (id),
  weights BLOB NOT NULL
);

CREATE TABLE strategy_states (
  federation_id TEXT PRIMARY KEY REFERENCES federations (id),
  state BLOB NOT NULL
);

CREATE TABLE evaluations (
  version_id TEXT NOT NULL REFERENCES model_versions (id),
  site_id TEXT NOT NULL,
  metrics TEXT NOT NULL,
  n INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (version_id, site_id)
);

CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  detail TEXT NOT NULL
);

CREATE TABLE health_probe (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  at TEXT NOT NULL
);
`,
};
