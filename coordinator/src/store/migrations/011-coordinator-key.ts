import type { Migration } from './types';

/** The coordinator key a store belongs to (one row): replicas sharing the store must all hold that key. */
export const migration011: Migration = {
  version: 11,
  name: 'coordinator-key',
  sql: `
CREATE TABLE coordinator_key (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  fingerprint TEXT NOT NULL,
  claimed_at TEXT NOT NULL
);
`,
};
