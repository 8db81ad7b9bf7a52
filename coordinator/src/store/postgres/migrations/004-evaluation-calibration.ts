import type { PgMigration } from './types';

/** Evaluation calibration (SQLite's 014): the ECE and reliability curve a site reported, JSON; null when none. */
export const migration004: PgMigration = {
  version: 4,
  name: 'evaluation-calibration',
  sql: `
ALTER TABLE evaluations ADD COLUMN calibration TEXT;
`,
};
