import type { PgMigration } from './types';

/** Evaluation calibration (SQLite's 015): the ECE and reliability curve a site reported, JSON; null when none. */
export const migration005: PgMigration = {
  version: 5,
  name: 'evaluation-calibration',
  sql: `
ALTER TABLE evaluations ADD COLUMN calibration TEXT;
`,
};
