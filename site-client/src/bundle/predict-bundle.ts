import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { modelScores } from '../scoring/model-scores';
import { TwinfedError, tierOf, type RiskTiers, type VerifiedBundle } from '@twinfed/shared';

/**
 * The column mapping of `twinfed-site predict`: which CSV column holds each model input (`name` must be the
 * manifest's feature names, in the manifest's order) and, optionally, an `id` column copied to the output.
 * A training mapping (with `label`) is accepted as it is; its label is ignored.
 */
export const PredictMappingSchema = z
  .object({
    features: z
      .array(z.object({ column: z.string().min(1).max(200), name: z.string().min(1).max(200) }).strict())
      .min(1)
      .max(100_000),
    id: z.string().min(1).max(200).optional(),
    label: z.unknown().optional(),
  })
  .strict();
/** A predict mapping (see {@link PredictMappingSchema}). */
type PredictMapping = z.infer<typeof PredictMappingSchema>;

/** One scored row. */
interface PredictedRow {
  /** 1-based line of the CSV file (the header is line 1). */
  readonly line: number;
  readonly id: string | null;
  readonly score: number;
  readonly tier: string;
}

/** What {@link predictCsv} produced. */
interface PredictResult {
  rows: PredictedRow[];
  rejected: Array<{ line: number; reason: string }>;
}

const MISSING = new Set(['', '?', 'na', 'n/a', 'nan', 'null']);

/**
 * Throws `FEATURE_MISMATCH` unless the mapping names exactly the bundle's features in the bundle's order (the
 * model's inputs are positional: a swapped pair would silently score nonsense).
 */
function checkMapping(mapping: PredictMapping, bundle: VerifiedBundle): void {
  const want = bundle.manifest.description.features.map((f) => f.name);
  const have = mapping.features.map((f) => f.name);
  const i = want.findIndex((name, k) => have[k] !== name);
  if (i >= 0 || have.length !== want.length) {
    const k = i >= 0 ? i : want.length;
    throw new TwinfedError(
      'FEATURE_MISMATCH',
      `Feature ${k + 1} is "${have[k] ?? '(none)'}" in the mapping but "${want[k] ?? '(none)'}" in the model: map the columns to the model's features in its order (${want.join(', ')}).`,
    );
  }
}

/**
 * Scores a CSV with a verified bundle: picks the mapped columns in model order, fills missing values with the
 * manifest's fill values (twin plans; without them a row with a missing value is rejected), z-scores with the
 * manifest's statistics (`(x − mean) / (std + epsilon)`), predicts with `@twinfed/models` and assigns the
 * manifest's risk tier. Throws `FEATURE_MISMATCH` (mapping), `CONFIG_INVALID` (a column absent from the CSV, or a
 * per-site bundle without statistics: only a site's export can score raw data).
 */
export async function predictCsv(opts: {
  bundle: VerifiedBundle;
  mapping: PredictMapping;
  csv: string;
}): Promise<PredictResult> {
  const { bundle, mapping } = opts;
  checkMapping(mapping, bundle);
  const pre = bundle.manifest.preprocessing;
  if (pre.statistics === 'absent') {
    throw new TwinfedError(
      'CONFIG_INVALID',
      "This bundle was exported by the coordinator from a per-site-normalised federation and carries no normalisation statistics: score with a site's export (`twinfed-site export`), which carries that site's.",
    );
  }
  const records = parse(opts.csv, { bom: true, skip_empty_lines: true, relax_column_count: true, trim: true });
  const header = records[0] ?? [];
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new TwinfedError('CONFIG_INVALID', `Column ${name} is not in the CSV header.`);
    return i;
  };
  const cols = mapping.features.map((f) => col(f.column));
  const idCol = mapping.id !== undefined ? col(mapping.id) : -1;
  const d = cols.length;
  const xs: number[] = [];
  const kept: Array<{ line: number; id: string | null }> = [];
  const rejected: PredictResult['rejected'] = [];
  records.slice(1).forEach((cells, r) => {
    const line = r + 2;
    const row: number[] = [];
    for (let j = 0; j < d; j++) {
      const cell = (cells[cols[j]!] ?? '').trim();
      let v: number;
      if (MISSING.has(cell.toLowerCase())) {
        if (!pre.fill) return void rejected.push({ line, reason: `missing value in ${mapping.features[j]!.column}` });
        v = pre.fill[j]!;
      } else {
        v = Number(cell);
        if (!Number.isFinite(v))
          return void rejected.push({ line, reason: `non-numeric value in ${mapping.features[j]!.column}` });
      }
      row.push(v);
    }
    xs.push(...row);
    kept.push({ line, id: idCol >= 0 ? (cells[idCol] ?? '') : null });
  });
  const n = kept.length;
  const x = new Float32Array(n * d);
  const z = pre.zScore;
  // Tabular training reads CSV values into float32 before z-scoring (parseCsvDataset); twin features stay float64.
  const tabular = bundle.plan.data.derive === undefined;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = tabular ? Math.fround(xs[i * d + j]!) : xs[i * d + j]!;
      x[i * d + j] = z ? (v - z.mean[j]!) / (z.std[j]! + z.epsilon) : v;
    }
  }
  const scores = await modelScores({
    spec: bundle.plan.model,
    weights: bundle.weights,
    x,
    n,
    ...(bundle.meta.recalibration ? { recalibration: bundle.meta.recalibration } : {}),
    baseline: bundle.meta.coxBaseline,
  });
  const tiers: RiskTiers = {
    thresholds: bundle.manifest.description.tiers.thresholds,
    names: bundle.manifest.description.tiers.names,
  };
  return {
    rows: kept.map((k, i) => ({ line: k.line, id: k.id, score: scores[i]!, tier: tierOf(scores[i]!, tiers) })),
    rejected,
  };
}

/** Quotes a CSV cell when it needs it. */
function cell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The output CSV: `line[,<id column>],score,tier`, one row per scored input row. */
export function predictionsCsv(result: PredictResult, idColumn: string | undefined): string {
  const head = ['line', ...(idColumn !== undefined ? [idColumn] : []), 'score', 'tier'];
  const lines = result.rows.map((r) =>
    [String(r.line), ...(idColumn !== undefined ? [r.id ?? ''] : []), String(r.score), r.tier].map(cell).join(','),
  );
  return `${[head.map(cell).join(','), ...lines].join('\n')}\n`;
}
