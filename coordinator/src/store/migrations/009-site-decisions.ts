import type { Migration } from './types';

/**
 * Sites' decisions about federations' plans: the latest per (federation, site), about one plan hash. Who at the site
 * decided, and why, is never sent, so there is no column for it.
 */
export const migration009: Migration = {
  version: 9,
  name: 'site-decisions',
  sql: `
CREATE TABLE site_decisions (
  federation_id TEXT NOT NULL REFERENCES federations (id),
  site_id TEXT NOT NULL,
  plan_sha256 TEXT NOT NULL,
  decision TEXT NOT NULL CHECK (decision IN ('approved', 'rejected', 'revoked')),
  decided_at TEXT NOT NULL,
  PRIMARY KEY (federation_id, site_id)
);
`,
};
