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
      .array(
        z
          .object({
            column: z
              .string()
              .min(1)
              .max(200)
              .describe('The CSV header of the column to read (exact, after trimming).'),
            name: z
              .string()
              .min(1)
              .max(200)
              .describe("The model input name it becomes; the features are listed in the plan's data.features order."),
            allowConstant: z
              .boolean()
              .default(false)
              .describe(
                'Accept a column that has the same value in every usable row (the site refuses it otherwise, DATA_FEATURE_CONSTANT): set it when the column really is constant at this site.',
              ),
          })
          .strict(),
      )
      .min(1)
      .max(100_000)
      .describe(
        "The model's input columns, in the plan's data.features order: each CSV column and the feature name it becomes.",
      ),
    label: z
      .union([
        z
          .object({
            column: z.string().min(1).max(200).describe('The CSV header of the outcome column.'),
            positive: z
              .array(z.union([z.string(), z.number()]))
              .min(1)
              .describe(
                'Cell values that mean "positive" (label 1). A number also matches numerically ("1.0" matches 1); a string matches exactly (case-sensitive).',
              ),
            negative: z
              .array(z.union([z.string(), z.number()]))
              .min(1)
              .optional()
              .describe(
                'Cell values that mean "negative" (label 0). Without it every non-missing value that is not positive is negative; with it, any other value rejects the row ("unknown label value").',
              ),
          })
          .strict()
          .describe('A binary outcome: the outcome column and which of its values are positive.'),
        z
          .object({
            time: z
              .string()
              .min(1)
              .max(200)
              .describe(
                'The CSV header of the time column: days from the start of follow-up to the event or to censoring, a number > 0.',
              ),
            event: z
              .string()
              .min(1)
              .max(200)
              .describe(
                'The CSV header of the event column: 1 when the event was observed, 0 when the row is censored.',
              ),
          })
          .strict()
          .describe('A time-to-event outcome (Cox models): a time column and an event column.'),
      ])
      .describe(
        'The outcome: a binary label column and its positive values, or, for a Cox model, a time column and an event column.',
      ),
  })
  .strict()
  .superRefine((m, ctx) => {
    const names = new Set<string>();
    m.features.forEach((f, i) => {
      if (names.has(f.name))
        ctx.addIssue({ code: 'custom', path: ['features', i, 'name'], message: `duplicate feature name ${f.name}` });
      names.add(f.name);
    });
  });

/** A CSV column mapping (see {@link CsvMappingSchema}). */
export type CsvMapping = z.infer<typeof CsvMappingSchema>;
/** The label of a mapping with a binary outcome. */
type BinaryLabel = Extract<CsvMapping['label'], { column: string }>;
/** The label of a mapping with a time-to-event outcome. */
type SurvivalLabel = Extract<CsvMapping['label'], { time: string }>;

/** Whether a mapping's label is a time-to-event outcome (a time and an event column). */
export function isSurvivalLabel(label: CsvMapping['label']): label is SurvivalLabel {
  return 'time' in label;
}

/** A row the parser refused: its 1-based line number in the file, the column at fault and why (never a cell value). */
export interface RejectedRow {
  readonly line: number;
  readonly column: string;
  readonly reason: string;
}

/** How one mapped feature column looks over all data rows (accepted or not). */
interface CsvColumnProfile {
  readonly column: string;
  /** Rows whose cell is a finite number. */
  readonly usable: number;
  /** Rows whose cell is empty or a missing marker (`?`, `NA`, `NaN`, `null`…). */
  readonly missing: number;
  /** Rows whose cell is neither missing nor a number. */
  readonly nonNumeric: number;
}

/**
 * How the label column looks over all data rows: its distinct values with counts and how they map. For
 * time-to-event data it describes the event column: `positive` rows had the event, `negative` ones are censored,
 * `missing`/`unknown` count rows whose time or event is missing or invalid.
 */
interface CsvLabelProfile {
  readonly column: string;
  /** Distinct non-missing values, most frequent first (at most {@link MAX_LABEL_VALUES}; `otherValues` counts the rest). */
  readonly values: readonly { value: string; count: number }[];
  readonly otherValues: number;
  /** Rows whose label matches `positive`, matches no positive (and `negative`, when declared), is missing, or is unknown. */
  readonly positive: number;
  readonly negative: number;
  readonly missing: number;
  readonly unknown: number;
}

/** Everything the guardrails need to know about a parsed CSV (counts only, no rows). */
export interface CsvProfile {
  /** Data rows (header excluded). */
  readonly rows: number;
  readonly features: readonly CsvColumnProfile[];
  readonly label: CsvLabelProfile;
}

/** The parsed dataset: accepted rows as a {@link Split}, plus the rejected rows and the column profile. */
export interface CsvDataset extends Split {
  readonly featureNames: readonly string[];
  readonly rejected: readonly RejectedRow[];
  readonly profile: CsvProfile;
}

/** Options of {@link parseCsvDataset}: the CSV text (with a header row) and a validated mapping's parts. */
interface ParseCsvOptions {
  text: string;
  features: readonly { column: string; name: string }[];
  label: CsvMapping['label'];
}

/** Most distinct label values the profile keeps (a label column with more is not a label). */
const MAX_LABEL_VALUES = 1000;

const MISSING = new Set(['', '?', 'na', 'n/a', 'nan', 'null']);

/** True when `cell` (trimmed) is empty or a missing-value marker. */
function isMissingCell(cell: string): boolean {
  return MISSING.has(cell.toLowerCase());
}

function matches(cell: string, values: readonly (string | number)[]): boolean {
  const num = Number(cell);
  return values.some((v) => (typeof v === 'number' ? cell !== '' && num === v : cell === v.trim()));
}

type CellState = 'usable' | 'missing' | 'nonNumeric';

/** A row's outcome: a label (and a time, for time-to-event data), or why it is refused and which column is at fault. */
type LabelCell =
  { kind: 'ok'; y: number; time?: number } | { kind: 'missing' | 'unknown'; column: string; reason: string };

/** Reads a row's outcome cells for one kind of label. */
interface LabelReader {
  /** The column the profile describes: the label column, or the event column of time-to-event data. */
  readonly column: string;
  /** The cell the profile counts (the label, or the event). */
  value(cells: readonly string[]): string;
  read(cells: readonly string[]): LabelCell;
}

function binaryReader(label: BinaryLabel, index: (column: string) => number): LabelReader {
  const col = index(label.column);
  const value = (cells: readonly string[]): string => (cells[col] ?? '').trim();
  return {
    column: label.column,
    value,
    read(cells) {
      const raw = value(cells);
      if (isMissingCell(raw)) return { kind: 'missing', column: label.column, reason: `missing label ${label.column}` };
      if (matches(raw, label.positive)) return { kind: 'ok', y: 1 };
      if (label.negative && !matches(raw, label.negative))
        return { kind: 'unknown', column: label.column, reason: `unknown label value in ${label.column}` };
      return { kind: 'ok', y: 0 };
    },
  };
}

/** Time-to-event cells: the time a finite number > 0 (days), the event exactly 0 or 1. */
function survivalReader(label: SurvivalLabel, index: (column: string) => number): LabelReader {
  const timeCol = index(label.time);
  const eventCol = index(label.event);
  const value = (cells: readonly string[]): string => (cells[eventCol] ?? '').trim();
  return {
    column: label.event,
    value,
    read(cells) {
      const rawEvent = value(cells);
      const rawTime = (cells[timeCol] ?? '').trim();
      if (isMissingCell(rawTime))
        return { kind: 'missing', column: label.time, reason: `missing time in ${label.time}` };
      if (isMissingCell(rawEvent))
        return { kind: 'missing', column: label.event, reason: `missing event in ${label.event}` };
      const time = Number(rawTime);
      if (!(Number.isFinite(time) && time > 0))
        return { kind: 'unknown', column: label.time, reason: `time in ${label.time} is not a number > 0` };
      const event = Number(rawEvent);
      if (event !== 0 && event !== 1)
        return { kind: 'unknown', column: label.event, reason: `event in ${label.event} is not 0 or 1` };
      return { kind: 'ok', y: event, time };
    },
  };
}

/**
 * Parses a CSV with a header row into features and 0/1 labels, or, with a time-to-event label, 0/1 events
 * (`y`) and times (`time`). Missing or non-numeric feature cells and missing or unknown labels (a time that
 * is not a number > 0, an event other than 0 or 1) reject that row (with its line, column and reason); the
 * other rows still land. Also profiles every mapped column over all rows, for {@link checkCsvDataset}.
 * Throws if a mapped column is absent from the header. Values are raw: normalise afterwards.
 */
export function parseCsvDataset(options: ParseCsvOptions): CsvDataset {
  const records = parse(options.text, {
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    trim: true,
    info: true,
  }) as unknown as { record: string[]; info: { lines: number } }[];
  const header = records[0]?.record ?? [];
  const index = (column: string): number => {
    const i = header.indexOf(column);
    if (i < 0) throw new Error(`column ${column} is not in the CSV header`);
    return i;
  };
  const featureCols = options.features.map((f) => index(f.column));
  const reader = isSurvivalLabel(options.label)
    ? survivalReader(options.label, index)
    : binaryReader(options.label, index);
  const d = featureCols.length;
  const xs: number[] = [];
  const ys: number[] = [];
  const times: number[] = [];
  const rejected: RejectedRow[] = [];
  const counts = options.features.map((f) => ({ column: f.column, usable: 0, missing: 0, nonNumeric: 0 }));
  const label = { positive: 0, negative: 0, missing: 0, unknown: 0 };
  const values = new Map<string, number>();
  let otherValues = 0;
  const row = new Array<number>(d);
  const states = new Array<CellState>(d);
  for (const { record: cells, info } of records.slice(1)) {
    const raw = reader.value(cells);
    if (!isMissingCell(raw)) {
      if (values.has(raw) || values.size < MAX_LABEL_VALUES) values.set(raw, (values.get(raw) ?? 0) + 1);
      else otherValues += 1;
    }
    const outcome = reader.read(cells);
    if (outcome.kind === 'ok') label[outcome.y === 1 ? 'positive' : 'negative'] += 1;
    else label[outcome.kind] += 1;
    for (let j = 0; j < d; j++) {
      const cell = (cells[featureCols[j]!] ?? '').trim();
      const value = Number(cell);
      states[j] = isMissingCell(cell) ? 'missing' : Number.isFinite(value) ? 'usable' : 'nonNumeric';
      counts[j]![states[j]!] += 1;
      row[j] = value;
    }
    const line = info.lines;
    if (outcome.kind !== 'ok') {
      rejected.push({ line, column: outcome.column, reason: outcome.reason });
      continue;
    }
    const bad = states.findIndex((st) => st !== 'usable');
    if (bad >= 0) {
      const column = options.features[bad]!.column;
      rejected.push({
        line,
        column,
        reason: states[bad] === 'missing' ? `missing value in ${column}` : `non-numeric value in ${column}`,
      });
      continue;
    }
    for (const v of row) xs.push(v);
    ys.push(outcome.y);
    if (outcome.time !== undefined) times.push(outcome.time);
  }
  const profile: CsvProfile = {
    rows: Math.max(0, records.length - 1),
    features: counts,
    label: {
      column: reader.column,
      values: [...values].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count),
      otherValues,
      ...label,
    },
  };
  return {
    x: Float32Array.from(xs),
    y: Float32Array.from(ys),
    n: ys.length,
    d,
    ...(isSurvivalLabel(options.label) ? { time: Float32Array.from(times) } : {}),
    featureNames: options.features.map((f) => f.name),
    rejected,
    profile,
  };
}
