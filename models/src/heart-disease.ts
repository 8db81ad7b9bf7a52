import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Normalization } from '@twinfed/shared';
import {
  applyStandardizer,
  concatSplits,
  fitStandardizer,
  type Matrix,
  type Split,
  type Standardizer,
} from './dataset';

/**
 * FLamby's Fed-Heart-Disease: the four UCI hospitals, preprocessed exactly as FLamby does
 * (data/heart-disease/BENCHMARK.md §1), split by the recorded FLamby assignment (flamby_split.csv).
 */

/** The four clients, in FLamby's center order. */
export const HEART_DISEASE_CENTERS = [
  {
    center: 0,
    name: 'cleveland',
    file: 'processed.cleveland.data',
    site: 'Cleveland Clinic Foundation',
    train: 199,
    test: 104,
  },
  {
    center: 1,
    name: 'hungarian',
    file: 'processed.hungarian.data',
    site: 'Hungarian Institute of Cardiology',
    train: 172,
    test: 89,
  },
  {
    center: 2,
    name: 'switzerland',
    file: 'processed.switzerland.data',
    site: 'University Hospitals of Zurich and Basel',
    train: 30,
    test: 16,
  },
  { center: 3, name: 'va', file: 'processed.va.data', site: 'V.A. Medical Center, Long Beach', train: 85, test: 45 },
] as const;

/** The 13 model inputs in FLamby's order: 8 numeric columns, then one-hot cp (2,3,4) and restecg (1,2). */
export const HEART_DISEASE_FEATURES = [
  'age',
  'sex',
  'trestbps',
  'chol',
  'fbs',
  'thalach',
  'exang',
  'oldpeak',
  'cp_2',
  'cp_3',
  'cp_4',
  'restecg_1',
  'restecg_2',
] as const;

/** One client's data: train and test splits over {@link HEART_DISEASE_FEATURES}. */
export interface ClientDataset {
  readonly center: number;
  readonly name: string;
  readonly train: Split;
  readonly test: Split;
  readonly featureNames: readonly string[];
  /** The z-score statistics applied to both splits (absent with `normalization: 'none'`). */
  readonly stats?: Standardizer;
}

/**
 * How features are z-scored, in the plan's vocabulary (`Normalization`): `per-site`: each client's own train
 * statistics (FLamby's default and its per-client test sets). `federated`: the pooled statistics of all 486 train
 * rows, for every client (what federated normalisation's secure sum computes). `none`: raw.
 */

/** Options of the loaders. */
interface HeartDiseaseOptions {
  /** Directory holding the raw files and flamby_split.csv; default {@link dataDir}(). */
  dir?: string;
  normalization?: Normalization;
}

const NUMERIC_COLUMNS = [0, 1, 3, 4, 5, 7, 8, 9];
const ONE_HOT = [
  { column: 2, name: 'cp' },
  { column: 6, name: 'restecg' },
];
const DROPPED_COLUMNS = new Set([10, 11, 12]);
const LABEL_COLUMN = 13;

/**
 * Finds `data/heart-disease` by walking up from this file (works from `src/` under ts-jest and from
 * compiled `dist/`). Pass `start` to search from elsewhere.
 */
export function dataDir(start: string = __dirname): string {
  let dir = path.resolve(start);
  for (;;) {
    const candidate = path.join(dir, 'data', 'heart-disease');
    if (fs.existsSync(path.join(candidate, 'flamby_split.csv'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`data/heart-disease not found above ${start}`);
    dir = parent;
  }
}

interface RawRow {
  line: number;
  values: number[];
  label: number;
}

/** Rows FLamby keeps from one raw file: columns 10-12 dropped, then every row with a missing value dropped. */
export function readRawCenter(text: string): RawRow[] {
  const rows: RawRow[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const cells = line.split(',');
    if (cells.length !== 14) throw new Error(`line ${i + 1}: expected 14 fields, got ${cells.length}`);
    const values = cells.map((c) => (c.trim() === '?' ? NaN : Number(c)));
    if (values.some((v, j) => !DROPPED_COLUMNS.has(j) && Number.isNaN(v))) return;
    rows.push({ line: i + 1, values, label: values[LABEL_COLUMN]! > 0 ? 1 : 0 });
  });
  return rows;
}

interface SplitRecord {
  line: number;
  row: number;
  split: 'train' | 'test';
  target: number;
}

function readSplitFile(dir: string): Map<string, SplitRecord> {
  const records = parse<Record<string, string>>(fs.readFileSync(path.join(dir, 'flamby_split.csv'), 'utf8'), {
    columns: true,
    skip_empty_lines: true,
  });
  const out = new Map<string, SplitRecord>();
  for (const r of records) {
    const split = r['split'];
    if (split !== 'train' && split !== 'test') throw new Error(`flamby_split.csv: bad split ${String(split)}`);
    out.set(`${r['center_id']}:${r['line']}`, {
      line: Number(r['line']),
      row: Number(r['row_after_dropna']),
      split,
      target: Number(r['target']),
    });
  }
  return out;
}

/** Sorted distinct levels of a column across all clients' kept rows (FLamby one-hot encodes the stacked data). */
function levelsOf(all: RawRow[][], column: number): number[] {
  const set = new Set<number>();
  for (const rows of all) for (const r of rows) set.add(r.values[column]!);
  return [...set].sort((a, b) => a - b);
}

function encode(row: RawRow, levels: number[][]): number[] {
  const out = NUMERIC_COLUMNS.map((c) => row.values[c]!);
  ONE_HOT.forEach((oh, k) => {
    for (const level of levels[k]!.slice(1)) out.push(row.values[oh.column] === level ? 1 : 0);
  });
  return out;
}

type RawSplit = Matrix & { x: Float64Array; y: Float32Array };

function toRawSplit(rows: number[][], labels: number[]): RawSplit {
  const d = HEART_DISEASE_FEATURES.length;
  const x = new Float64Array(rows.length * d);
  rows.forEach((r, i) => x.set(r, i * d));
  return { x, y: Float32Array.from(labels), n: rows.length, d };
}

function toFloat32(raw: RawSplit): Split {
  return { x: Float32Array.from(raw.x), y: raw.y, n: raw.n, d: raw.d };
}

/** Raw (un-normalised) train/test matrices of every client, validated against FLamby's published counts. */
function loadRaw(dir: string): { train: RawSplit; test: RawSplit }[] {
  const rows = HEART_DISEASE_CENTERS.map((c) => readRawCenter(fs.readFileSync(path.join(dir, c.file), 'utf8')));
  const levels = ONE_HOT.map((oh) => levelsOf(rows, oh.column));
  const names = [
    ...NUMERIC_COLUMNS.map((_, i) => HEART_DISEASE_FEATURES[i]),
    ...ONE_HOT.flatMap((oh, k) => levels[k]!.slice(1).map((l) => `${oh.name}_${l}`)),
  ];
  if (names.join() !== HEART_DISEASE_FEATURES.join()) throw new Error(`unexpected one-hot levels: ${names.join()}`);
  const assignment = readSplitFile(dir);
  return HEART_DISEASE_CENTERS.map((c, k) => {
    const parts = {
      train: { x: [] as number[][], y: [] as number[] },
      test: { x: [] as number[][], y: [] as number[] },
    };
    rows[k]!.forEach((r, index) => {
      const rec = assignment.get(`${c.center}:${r.line}`);
      if (!rec || rec.row !== index || rec.target !== r.label)
        throw new Error(`${c.name} line ${r.line}: not in flamby_split.csv as row ${index}`);
      parts[rec.split].x.push(encode(r, levels));
      parts[rec.split].y.push(r.label);
    });
    if (parts.train.y.length !== c.train || parts.test.y.length !== c.test) {
      throw new Error(
        `${c.name}: ${parts.train.y.length}/${parts.test.y.length} rows, FLamby has ${c.train}/${c.test}`,
      );
    }
    return { train: toRawSplit(parts.train.x, parts.train.y), test: toRawSplit(parts.test.x, parts.test.y) };
  });
}

/**
 * The four Fed-Heart-Disease clients. Throws if the files do not reproduce FLamby's row counts
 * (199/104, 172/89, 30/16, 85/45) or feature levels.
 */
export function loadHeartDisease(options: HeartDiseaseOptions = {}): ClientDataset[] {
  const raw = loadRaw(options.dir ?? dataDir());
  const normalization = options.normalization ?? 'per-site';
  const pooledStats = normalization === 'federated' ? fitStandardizer(raw.map((r) => r.train)) : undefined;
  return raw.map((r, k) => {
    const c = HEART_DISEASE_CENTERS[k]!;
    const base = { center: c.center, name: c.name, featureNames: [...HEART_DISEASE_FEATURES] };
    if (normalization === 'none') return { ...base, train: toFloat32(r.train), test: toFloat32(r.test) };
    const stats = pooledStats ?? fitStandardizer(r.train);
    return { ...base, train: applyStandardizer(r.train, stats), test: applyStandardizer(r.test, stats), stats };
  });
}

/**
 * FLamby's "Pooled" baseline data: all 486 train rows and all 254 test rows (centers in order),
 * z-scored with the pooled train statistics. `center` is -1. (FLamby evaluates the pooled model on
 * the per-client test sets with per-client statistics; take those from {@link loadHeartDisease}.)
 */
export function loadHeartDiseasePooled(options: Omit<HeartDiseaseOptions, 'normalization'> = {}): ClientDataset {
  const clients = loadHeartDisease({ ...options, normalization: 'federated' });
  return {
    center: -1,
    name: 'pooled',
    featureNames: [...HEART_DISEASE_FEATURES],
    train: concatSplits(clients.map((c) => c.train)),
    test: concatSplits(clients.map((c) => c.test)),
    ...(clients[0]?.stats ? { stats: clients[0].stats } : {}),
  };
}
