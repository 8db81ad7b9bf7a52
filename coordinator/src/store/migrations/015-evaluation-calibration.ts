import type { Migration } from './types';

/** A site's evaluation may carry the model's calibration (ECE and reliability curve, JSON); null when not reported. */
export const migration015: Migration = {
  version: 15,
  name: 'evaluation-calibration',
  sql: `
ALTER TABLE evaluations ADD COLUMN calibration TEXT;
`,
};
