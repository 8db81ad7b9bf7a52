import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import type { Split } from './dataset';

/**
 * A declared column mapping for a site's CSV (`--data <csv> --mapping <json>`): which columns are
 * the model's features, in model order, and which column is the label with its positive values.
 */
export const CsvMappingSchema = z
  .object({
    features: z
      .array(z.object({ column: z.string().min(1).max(200), name: z.string().min(1).max(200) }).strict())
      .min(1)
      .max(100_000),
    label: z
      .object({
        column: z.string().min(1).max(200),
        /** Cell values that mean "positive" (1); numbers also match numerically ("1.0" matches 1). */
        positive: z.array(z.union([z.string(), z.number()])).min(1),
        /** If given, only these values mean "negative"; any other label value rejects the row. */
        negative: z.array(z.union([z.string(), z.number()])).min(1).optional(),
      })
      .strict(),
  })
  .strict()
  .superRefine((m, ctx) => {
    const names = new Set<string>();
    m.features.forEach((f, i) => {
      if (names.has(f.name)) ctx.addIssue({ code: 'custom', path: ['features', i, 'name'], message: `duplicate feature name ${f.name}` });
      names.add(f.name);
    });
  });

/** A CSV column mapping (see {@link CsvMappingSchema}). */
export type CsvMapping = z.infer<typeof CsvMappingSchema>;

/** A row the parser refused, with its 1-based line number in the file and why. */
export interface RejectedRow {
  readonly line: number;
  readonly reason: string;
}

/** The parsed dataset: accepted rows as a {@link Split}, plus the rejected rows. */
export interface CsvDataset extends Split {
  readonly featureNames: readonly string[];
  readonly rejected: readonly RejectedRow[];
}

/** Options of {@link parseCsvDataset}: the CSV text (with a header row) and a validated mapping's parts. */
export interface ParseCsvOptions {
  text: string;
  features: CsvMapping['features'];
  label: CsvMapping['label'];
}

const MISSING = new Set(['', '?', 'na', 'n/a', 'nan', 'null']);

function matches(cell: string, values: readonly (string | number)[]): boolean {
  const num = Number(cell);
  return values.some((v) => (typeof v === 'number' ? cell !== '' && num === v : cell === v.trim()));
}

/**
 * Parses a CSV with a header row into features and 0/1 labels. Missing or non-numeric feature cells
 * and missing or unknown labels reject that row (with a reason); the other rows still land.
 * Throws if a mapped column is absent from the header. Values are raw: normalise afterwards.
 */
export function parseCsvDataset(options: ParseCsvOptions): CsvDataset {
  const records = parse(options.text, { bom: true, skip_empty_lines: true, relax_column_count: true, trim: true }) as string[][];
  const header = records[0] ?? [];
  const index = (column: string): number => {
    const i = header.indexOf(column);
    if (i < 0) throw new Error(`column ${column} is not in the CSV header`);
    return i;
  };
  const featureCols = options.features.map((f) => index(f.column));
  const labelCol = index(options.label.column);
  const d = featureCols.length;
  const xs: number[] = [];
  const ys: number[] = [];
  const rejected: RejectedRow[] = [];
  records.slice(1).forEach((cells, r) => {
    const parsed = parseRow({ cells, featureCols, labelCol, options });
    if (typeof parsed === 'string') {
      rejected.push({ line: r + 2, reason: parsed });
      return;
    }
    for (const v of parsed.row) xs.push(v);
    ys.push(parsed.label);
  });
  return { x: Float32Array.from(xs), y: Float32Array.from(ys), n: ys.length, d, featureNames: options.features.map((f) => f.name), rejected };
}

/** One data row → its features and label, or the reason it is rejected. */
function parseRow(args: { cells: string[]; featureCols: number[]; labelCol: number; options: ParseCsvOptions }): { row: number[]; label: number } | string {
  const { cells, featureCols, labelCol, options } = args;
  const label = (cells[labelCol] ?? '').trim();
  if (MISSING.has(label.toLowerCase())) return `missing label ${options.label.column}`;
  const positive = matches(label, options.label.positive);
  if (!positive && options.label.negative && !matches(label, options.label.negative)) return `unknown label value in ${options.label.column}`;
  const row: number[] = [];
  for (let j = 0; j < featureCols.length; j++) {
    const cell = (cells[featureCols[j]!] ?? '').trim();
    const column = options.features[j]!.column;
    if (MISSING.has(cell.toLowerCase())) return `missing value in ${column}`;
    const value = Number(cell);
    if (!Number.isFinite(value)) return `non-numeric value in ${column}`;
    row.push(value);
  }
  return { row, label: positive ? 1 : 0 };
}
