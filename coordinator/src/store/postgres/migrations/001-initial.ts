import type { PgMigration } from './types';

/** Text compared and ordered byte by byte, as SQLite's BINARY collation does (ids, ISO times). */
const T = 'TEXT COLLATE "C"';

/**
 * The whole schema of SQLite migrations 1–11 at once. Times are ISO-8601 UTC text; JSON is text (kept as written,
 * like SQLite); bytes are bytea. `seq` identity columns give creation order where SQLite used rowid/AUTOINCREMENT.
 * `audit_sequence` is the audit log's counter (SQLite: sqlite_sequence) and the row appends lock to stay one chain.
 */
export const migration001: PgMigration = {
  version: 1,
  name: 'initial',
  sql: `
CREATE TABLE coordinator_key (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  fingerprint ${T} NOT NULL,
  claimed_at ${T} NOT NULL
);

CREATE TABLE studies (
  id ${T} PRIMARY KEY,
  name ${T} NOT NULL UNIQUE,
  description ${T},
  created_at ${T} NOT NULL
);
INSERT INTO studies (id, name, description, created_at) VALUES (
  'default',
  'default',
  'Federations created without a study, and every federation created before studies existed.',
  to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
);

CREATE TABLE api_tokens (
  id ${T} PRIMARY KEY,
  name ${T} NOT NULL,
  role ${T} NOT NULL CHECK (role IN ('operator', 'researcher')),
  token_hash ${T} NOT NULL UNIQUE,
  created_at ${T} NOT NULL,
  revoked_at ${T}
);

CREATE TABLE api_token_studies (
  token_id ${T} NOT NULL REFERENCES api_tokens (id),
  study_id ${T} NOT NULL REFERENCES studies (id),
  PRIMARY KEY (token_id, study_id)
);

CREATE TABLE invitations (
  id ${T} PRIMARY KEY,
  site_name ${T} NOT NULL,
  token_hash ${T} NOT NULL UNIQUE,
  created_at ${T} NOT NULL,
  expires_at ${T} NOT NULL,
  used_at ${T},
  site_id ${T}
);

CREATE TABLE sites (
  id ${T} PRIMARY KEY,
  name ${T} NOT NULL,
  sign_public_key ${T} NOT NULL,
  box_public_key ${T} NOT NULL,
  enrolled_at ${T} NOT NULL,
  revoked_at ${T},
  last_seen_at ${T},
  missed_rounds INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX sites_sign_public_key ON sites (sign_public_key) WHERE revoked_at IS NULL;
CREATE UNIQUE INDEX sites_box_public_key ON sites (box_public_key) WHERE revoked_at IS NULL;

CREATE TABLE nonces (
  site_id ${T} NOT NULL,
  nonce ${T} NOT NULL,
  expires_at ${T} NOT NULL,
  PRIMARY KEY (site_id, nonce)
);
CREATE INDEX nonces_expires_at ON nonces (expires_at);

CREATE TABLE federations (
  id ${T} PRIMARY KEY,
  name ${T} NOT NULL,
  study_id ${T} NOT NULL REFERENCES studies (id),
  plan TEXT NOT NULL,
  state ${T} NOT NULL CHECK (state IN ('running', 'completed', 'failed', 'stopped')),
  created_at ${T} NOT NULL,
  updated_at ${T} NOT NULL,
  current_round INTEGER NOT NULL,
  latest_version_id ${T}
);
CREATE INDEX federations_study_id ON federations (study_id);

CREATE TABLE rounds (
  federation_id ${T} NOT NULL REFERENCES federations (id),
  round INTEGER NOT NULL,
  state ${T} NOT NULL CHECK (state IN ('open', 'collecting', 'aggregating', 'published', 'failed')),
  base_version_id ${T} NOT NULL,
  selected_site_ids TEXT NOT NULL,
  client_config TEXT NOT NULL,
  opened_at ${T} NOT NULL,
  deadline_at ${T} NOT NULL,
  closed_at ${T},
  failure_reason TEXT,
  version_id ${T},
  PRIMARY KEY (federation_id, round)
);

CREATE TABLE updates (
  federation_id ${T} NOT NULL,
  round INTEGER NOT NULL,
  site_id ${T} NOT NULL,
  digest ${T} NOT NULL,
  envelope BYTEA NOT NULL,
  num_examples INTEGER NOT NULL,
  metrics TEXT NOT NULL,
  received_at ${T} NOT NULL,
  PRIMARY KEY (federation_id, round, site_id),
  FOREIGN KEY (federation_id, round) REFERENCES rounds (federation_id, round)
);

CREATE TABLE model_versions (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id ${T} NOT NULL UNIQUE,
  federation_id ${T} NOT NULL REFERENCES federations (id),
  parent_version_id ${T},
  round INTEGER NOT NULL,
  meta TEXT NOT NULL,
  signature TEXT NOT NULL,
  weights_sha256 ${T} NOT NULL,
  created_at ${T} NOT NULL
);
CREATE INDEX model_versions_federation ON model_versions (federation_id, seq);

CREATE TABLE version_weights (
  version_id ${T} PRIMARY KEY REFERENCES model_versions (id),
  weights BYTEA NOT NULL
);

CREATE TABLE strategy_states (
  federation_id ${T} PRIMARY KEY REFERENCES federations (id),
  state BYTEA NOT NULL
);

CREATE TABLE evaluations (
  version_id ${T} NOT NULL REFERENCES model_versions (id),
  site_id ${T} NOT NULL,
  metrics TEXT NOT NULL,
  n INTEGER NOT NULL,
  created_at ${T} NOT NULL,
  PRIMARY KEY (version_id, site_id)
);

CREATE TABLE population_reports (
  version_id ${T} NOT NULL REFERENCES model_versions (id),
  federation_id ${T} NOT NULL,
  site_id ${T} NOT NULL,
  report TEXT NOT NULL,
  created_at ${T} NOT NULL,
  PRIMARY KEY (version_id, site_id)
);
CREATE INDEX population_reports_federation ON population_reports (federation_id);

CREATE TABLE stats_contributions (
  federation_id ${T} NOT NULL REFERENCES federations (id),
  site_id ${T} NOT NULL,
  masked BYTEA NOT NULL,
  created_at ${T} NOT NULL,
  PRIMARY KEY (federation_id, site_id)
);

CREATE TABLE secagg_messages (
  federation_id ${T} NOT NULL,
  round INTEGER NOT NULL,
  site_id ${T} NOT NULL,
  kind ${T} NOT NULL CHECK (kind IN ('shares', 'consistency', 'reveal')),
  payload TEXT NOT NULL,
  created_at ${T} NOT NULL,
  PRIMARY KEY (federation_id, round, site_id, kind),
  FOREIGN KEY (federation_id, round) REFERENCES rounds (federation_id, round)
);

CREATE TABLE secagg_cohorts (
  federation_id ${T} NOT NULL,
  round INTEGER NOT NULL,
  site_ids TEXT NOT NULL,
  fixed_at ${T} NOT NULL,
  PRIMARY KEY (federation_id, round),
  FOREIGN KEY (federation_id, round) REFERENCES rounds (federation_id, round)
);

CREATE TABLE site_decisions (
  federation_id ${T} NOT NULL REFERENCES federations (id),
  site_id ${T} NOT NULL,
  plan_sha256 ${T} NOT NULL,
  decision ${T} NOT NULL CHECK (decision IN ('approved', 'rejected', 'revoked')),
  decided_at ${T} NOT NULL,
  PRIMARY KEY (federation_id, site_id)
);

CREATE TABLE cohort_queries (
  seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
  id ${T} PRIMARY KEY,
  study_id ${T} NOT NULL REFERENCES studies (id),
  query TEXT NOT NULL,
  created_by ${T} NOT NULL,
  created_at ${T} NOT NULL
);
CREATE INDEX cohort_queries_study ON cohort_queries (study_id);
CREATE TABLE cohort_answers (
  query_id ${T} NOT NULL REFERENCES cohort_queries (id),
  site_id ${T} NOT NULL,
  answer TEXT NOT NULL,
  digest ${T} NOT NULL,
  created_at ${T} NOT NULL,
  PRIMARY KEY (query_id, site_id)
);
CREATE INDEX cohort_answers_site ON cohort_answers (site_id);

CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  at ${T} NOT NULL,
  actor ${T} NOT NULL,
  action ${T} NOT NULL,
  subject ${T} NOT NULL,
  detail TEXT NOT NULL,
  prev_hash ${T} NOT NULL,
  hash ${T} NOT NULL
);
CREATE TABLE audit_sequence (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_seq BIGINT NOT NULL
);
INSERT INTO audit_sequence (id, last_seq) VALUES (1, 0);
CREATE TABLE audit_heads (
  seq BIGINT PRIMARY KEY,
  head_hash ${T} NOT NULL,
  at ${T} NOT NULL,
  signature TEXT NOT NULL
);

-- Append-only for the coordinator itself; someone with the database can drop these, which is what the chain detects.
CREATE FUNCTION twinfed_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION twinfed_append_only();
CREATE TRIGGER audit_heads_append_only BEFORE UPDATE OR DELETE ON audit_heads
  FOR EACH ROW EXECUTE FUNCTION twinfed_append_only();

CREATE TABLE health_probe (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  at ${T} NOT NULL
);
`,
};
