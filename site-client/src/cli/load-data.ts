import * as fs from 'node:fs';
import {
  CsvMappingSchema,
  HEART_DISEASE_CENTERS,
  checkCsvDataset,
  loadHeartDisease,
  parseCsvDataset,
  type RejectedRow,
} from '@twinfed/models';
import { TwinfedError } from '@twinfed/shared';
import { splitDataset, type LocalDataset } from '../training/dataset';
import { writeRejectsFile } from './rejects-file';

/** Where the local data come from. */
export type DataSource =
  | { kind: 'heart-disease'; center: number }
  | { kind: 'csv'; csvPath: string; mappingPath: string; testFraction: number; splitSeed: number };

/** The loaded dataset and what to tell the user about it (never row contents). */
export interface LoadedData {
  dataset: LocalDataset;
  description: string;
  rejectedRows: number;
  rejectedReasons: Record<string, number>;
  /** Every rejected row: line number, column and reason (never a cell value). */
  rejected: readonly RejectedRow[];
}

/** Options of {@link loadLocalData}. */
interface LoadOptions {
  /** Write every rejected CSV row (line, column, reason) here, before the guardrails run. */
  rejectsFile?: string;
  /** Run the training guardrails on a CSV (default true; cohort statistics describe data a plan would refuse, too). */
  guardrails?: boolean;
}

/**
 * Loads raw (un-normalised) local data: the bundled UCI Heart Disease file of one FLamby center with
 * FLamby's train/test split, or a CSV with a declared column mapping, split with a seeded stratified split.
 * A CSV must pass the data guardrails (see `checkCsvDataset`: `DATA_FEATURE_MISSING`, `DATA_SINGLE_CLASS`,
 * `DATA_TOO_FEW_ROWS`, `DATA_FEATURE_CONSTANT`); the rejects file, when asked for, is written first.
 * Throws `CONFIG_INVALID` with a readable reason for unreadable files and bad mappings.
 */
export function loadLocalData(source: DataSource, options: LoadOptions = {}): LoadedData {
  if (source.kind === 'heart-disease') {
    const center = HEART_DISEASE_CENTERS.find((c) => c.center === source.center);
    if (!center)
      throw new TwinfedError('CONFIG_INVALID', `--heart-disease takes a center id 0-3, not ${source.center}.`);
    const client = loadHeartDisease({ normalization: 'none' })[source.center]!;
    const dataset = { features: client.featureNames, train: client.train, test: client.test };
    return {
      dataset,
      description: `UCI Heart Disease, center ${center.center} (${center.site}), FLamby split`,
      rejectedRows: 0,
      rejectedReasons: {},
      rejected: [],
    };
  }
  const mapping = CsvMappingSchema.safeParse(readJson(source.mappingPath));
  if (!mapping.success) {
    const issue = mapping.error.issues[0];
    throw new TwinfedError(
      'CONFIG_INVALID',
      `The mapping ${source.mappingPath} is invalid: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}.`,
    );
  }
  let parsed;
  try {
    parsed = parseCsvDataset({
      text: readText(source.csvPath),
      features: mapping.data.features,
      label: mapping.data.label,
    });
  } catch (e) {
    throw new TwinfedError('CONFIG_INVALID', `${source.csvPath}: ${e instanceof Error ? e.message : String(e)}.`);
  }
  if (options.rejectsFile) writeRejectsFile(options.rejectsFile, parsed.rejected);
  if (options.guardrails !== false) checkCsvDataset(parsed, mapping.data);
  const rejectedReasons: Record<string, number> = {};
  for (const r of parsed.rejected) rejectedReasons[r.reason] = (rejectedReasons[r.reason] ?? 0) + 1;
  const dataset = splitDataset({
    data: parsed,
    features: parsed.featureNames,
    testFraction: source.testFraction,
    seed: source.splitSeed,
  });
  return {
    dataset,
    description: `${source.csvPath} (${parsed.n} rows, test fraction ${source.testFraction}, split seed ${source.splitSeed})`,
    rejectedRows: parsed.rejected.length,
    rejectedReasons,
    rejected: parsed.rejected,
  };
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TwinfedError('CONFIG_INVALID', `Cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}.`);
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readText(file));
  } catch (e) {
    if (e instanceof TwinfedError) throw e;
    throw new TwinfedError('CONFIG_INVALID', `${file} is not valid JSON.`);
  }
}
