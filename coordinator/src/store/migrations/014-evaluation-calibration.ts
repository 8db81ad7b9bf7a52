import type { Migration } from './types';

/** A site's evaluation may carry the model's calibration (ECE and reliability curve, JSON); null when not reported. */
export const migration014: Migration = {
  version: 14,
  name: 'evaluation-calibration',
  sql: `
ALTER TABLE evaluations ADD COLUMN calibration TEXT;
`,
};
