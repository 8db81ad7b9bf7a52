/** The Rossi recidivism data (data/rossi, from lifelines) as a time-to-event split, for the Cox reference tests. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseCsvDataset, type CsvDataset } from '../csv-dataset';

/** The covariates of lifelines' documented `CoxPHFitter` fit, in its order. */
export const ROSSI_FEATURES = ['fin', 'age', 'race', 'wexp', 'mar', 'paro', 'prio'] as const;

/** The CSV file, and its mapping: `week` is the time, `arrest` the event. */
export const ROSSI_CSV = path.resolve(__dirname, '../../../data/rossi/rossi.csv');
export const ROSSI_MAPPING = {
  features: ROSSI_FEATURES.map((f) => ({ column: f, name: f })),
  label: { time: 'week', event: 'arrest' },
};

/** All 432 rows, unnormalised. */
export function loadRossi(): CsvDataset {
  return parseCsvDataset({ text: fs.readFileSync(ROSSI_CSV, 'utf8'), ...ROSSI_MAPPING });
}
