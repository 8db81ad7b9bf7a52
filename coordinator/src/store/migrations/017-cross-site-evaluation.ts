import type { Migration } from './types';

/**
 * Cross-site evaluations: one session per completed federation (candidates, phase, deadlines, participants, the
 * signed matrix), each site's answer and result (one per kind), and the sealed local models in transit (deleted once
 * their recipient reported, and all of them when the evaluation completes).
 */
export const migration017: Migration = {
  version: 17,
  name: 'cross-site-evaluation',
  sql: `
CREATE TABLE cross_site_sessions (
  federation_id TEXT PRIMARY KEY REFERENCES federations (id),
  global_version_id TEXT NOT NULL,
  candidates TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('models', 'evaluating', 'complete')),
  opened_at TEXT NOT NULL,
  models_deadline_at TEXT NOT NULL,
  participants TEXT,
  results_deadline_at TEXT,
  matrix TEXT,
  closed_at TEXT
);
CREATE TABLE cross_site_messages (
  federation_id TEXT NOT NULL REFERENCES cross_site_sessions (federation_id),
  site_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('answer', 'result')),
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (federation_id, site_id, kind)
);
CREATE TABLE cross_site_boxes (
  federation_id TEXT NOT NULL REFERENCES cross_site_sessions (federation_id),
  sender TEXT NOT NULL,
  recipient TEXT NOT NULL,
  nonce BLOB NOT NULL,
  ciphertext BLOB NOT NULL,
  PRIMARY KEY (federation_id, recipient, sender)
);
`,
};
