import type { Migration } from './types';

/**
 * Leases with fencing tokens (one per federation: the replica that drives its rounds). A row is never deleted, so a
 * lease's token only grows, also across releases. Times are epoch milliseconds.
 */
export const migration013: Migration = {
  version: 13,
  name: 'leases',
  sql: `
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  token INTEGER NOT NULL CHECK (token >= 1),
  expires_at INTEGER NOT NULL
);
`,
};
