import type { Migration } from './types';

/**
 * Counts a coordinator replica keeps across restarts for its metrics (late uploads, rounds closed, recoveries), one
 * row per (replica, name): each replica restores its own, so summing over replicas counts every event once.
 */
export const migration014: Migration = {
  version: 14,
  name: 'metric-counts',
  sql: `
CREATE TABLE metric_counts (
  replica TEXT NOT NULL,
  name TEXT NOT NULL,
  value INTEGER NOT NULL CHECK (value >= 0),
  PRIMARY KEY (replica, name)
);
`,
};
