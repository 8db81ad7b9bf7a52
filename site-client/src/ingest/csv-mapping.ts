/**
 * The declared mapping of a tabular export (JSON, validated by zod): which column is the patient's
 * hospital id, birth date and sex, and which columns become observations, conditions, immunizations,
 * exposures, consent decisions and outcome labels. Works for long tables (one measurement per row) and
 * wide ones (one patient per row with a fixed time).
 *
 * Time of an item: its own `timeColumn` or `fixedTime`, else the mapping's `timeColumn` or `fixedTime`.
 * Times are FHIR dateTimes; a time of day without a zone is read in `timeZone` (default UTC).
 */
import { z } from 'zod';
import { TwinfedError } from '@twinfed/shared';
import { parseInstant } from './time';

const column = z.string().min(1).describe('A CSV header (exact, after trimming).');
const zone = z.string().regex(/^(Z|[+-]\d{2}:\d{2})$/, "must be 'Z' or ±hh:mm");
const instant = z.string().refine((s) => parseInstant(s) !== null, 'must be a FHIR dateTime with a zone, or a date');
const time = {
  timeColumn: column.optional().describe('Column holding the time of the item (a FHIR dateTime or date).'),
  fixedTime: instant
    .optional()
    .describe('One time for every item (a FHIR dateTime with a zone, or a date), when the export has no time column.'),
};
// Lists of these are given defaults with `prefault` (parsed like input) so that the JSON Schema and the docs show them.
const lower = z.string().transform((s) => s.trim().toLowerCase());
const values = (what: string) => z.array(lower).min(1).describe(what);

const ObservationColumn = z
  .object({
    column: column.describe('Column holding the numeric value (one observation per non-empty cell).'),
    code: z.string().min(1).describe('The LOINC code of the observation (e.g. `8867-4`, heart rate).'),
    unit: z
      .string()
      .optional()
      .describe('The unit of every value in the column (UCUM, or a common spelling converted to the canonical unit).'),
    unitColumn: column.optional().describe('Column holding each value’s unit, when it varies by row.'),
    ...time,
  })
  .describe('A column of measurements.');
const ConditionColumn = z
  .object({
    column: column.describe('With `code`: a yes/no flag column for that code. Without: the cell holds the code(s).'),
    system: z.enum(['snomed', 'icd10']).describe('The code system of the codes.'),
    /** With `code`, the column is a yes/no flag for that code; without, the cell holds the code(s). */
    code: z.string().min(1).optional().describe('The condition code a flag column stands for.'),
    present: z
      .array(lower)
      .min(1)
      .prefault(['1', 'true', 'yes', 'y', 'x'])
      .describe('Flag values meaning "has the condition" (case-insensitive).'),
    absent: z
      .array(lower)
      .prefault(['0', 'false', 'no', 'n'])
      .describe('Flag values meaning "does not have it"; other values reject the item.'),
    /** Splits a cell holding several codes (code mode). */
    separator: z.string().min(1).default(';').describe('Splits a cell holding several codes (code mode).'),
    onsetColumn: column.optional().describe('Column with the onset date.'),
    abatementColumn: column.optional().describe('Column with the abatement (resolution) date.'),
  })
  .describe('A column of diagnoses.');
const ImmunizationColumn = z
  .object({
    column: column.describe('With `cvx`: the vaccination date. Without: the cell holds the CVX code.'),
    /** With `cvx`, the cell is the vaccination date; without, the cell holds the CVX code and the time comes from the time spec. */
    cvx: z.string().min(1).optional().describe('The CVX code a date column stands for.'),
    ...time,
  })
  .describe('A column of vaccinations.');
const ExposureColumn = z
  .object({
    column: column.describe('The cell is the exposure date.'),
    /** The cell is the exposure date. */ kind: z
      .string()
      .min(1)
      .default('contact')
      .describe('The exposure kind recorded (matched by a plan’s `exposed` feature).'),
  })
  .describe('A column of exposure dates.');
const ConsentColumn = z
  .object({
    column: column.describe('The cell is the patient’s decision.'),
    purpose: z
      .enum(['model-training', 'scoring'])
      .describe('What the consent covers: training federated models, or scoring the patient.'),
    permit: values('Values meaning "permit" (case-insensitive).').prefault(['permit', 'yes', 'y', '1', 'true']),
    deny: values('Values meaning "deny" (case-insensitive); other values reject the item.').prefault([
      'deny',
      'no',
      'n',
      '0',
      'false',
    ]),
    ...time,
  })
  .describe('A column of consent decisions.');
const LabelColumn = z
  .object({
    column: column.describe('The outcome column (a twin plan with `labelRule: {kind: "stored"}` trains on it).'),
    positive: values('Values meaning positive (1), case-insensitive.').prefault(['1', 'true', 'yes', 'y']),
    negative: values('Values meaning negative (0), case-insensitive; other values reject the item.').prefault([
      '0',
      'false',
      'no',
      'n',
    ]),
    ...time,
  })
  .describe('The outcome label column.');

/** The twin-import mapping of `twinfed-site ingest csv --mapping` (see the module comment). */
export const CsvIngestMappingSchema = z
  .object({
    delimiter: z.string().length(1).default(',').describe('The field delimiter (one character).'),
    timeZone: zone.default('Z').describe("Zone of times without one: 'Z' or ±hh:mm."),
    patient: z
      .object({
        idColumn: column.describe(
          'The hospital’s patient id (MRN); it stays in the twin store, pseudonymised everywhere else.',
        ),
        birthDateColumn: column.optional().describe('Birth date (YYYY, YYYY-MM or YYYY-MM-DD).'),
        sexColumn: column.optional().describe('Recorded sex.'),
        /** Cell value (case-insensitive) → sex; defaults cover f/female/w, m/male, o/other, u/unknown. */
        sexValues: z
          .record(z.string(), z.enum(['female', 'male', 'other', 'unknown']))
          .optional()
          .describe('Cell value (case-insensitive) → sex; the defaults cover f/female/w, m/male, o/other, u/unknown.'),
      })
      .describe('Who a row is about.'),
    ...time,
    observations: z.array(ObservationColumn).default([]).describe('Measurement columns.'),
    conditions: z.array(ConditionColumn).default([]).describe('Diagnosis columns.'),
    immunizations: z.array(ImmunizationColumn).default([]).describe('Vaccination columns.'),
    exposures: z.array(ExposureColumn).default([]).describe('Exposure columns.'),
    consent: z.array(ConsentColumn).default([]).describe('Consent columns.'),
    label: LabelColumn.optional().describe('The outcome label column.'),
  })
  .describe(
    'A tabular export’s mapping into the twin store: long tables (one measurement per row) or wide ones (one patient per row).',
  );
/** A validated CSV ingest mapping (defaults filled in). */
export type CsvIngestMapping = z.infer<typeof CsvIngestMappingSchema>;

/** Validates a mapping (parsed JSON); throws VALIDATION_FAILED naming the first problem. */
export function parseCsvIngestMapping(raw: unknown): CsvIngestMapping {
  const r = CsvIngestMappingSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new TwinfedError(
    'VALIDATION_FAILED',
    `The CSV mapping is invalid: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}.`,
  );
}

/** Every column the mapping reads. */
export function mappedColumns(m: CsvIngestMapping): string[] {
  const cols: (string | undefined)[] = [
    m.patient.idColumn,
    m.patient.birthDateColumn,
    m.patient.sexColumn,
    m.timeColumn,
  ];
  for (const o of m.observations) cols.push(o.column, o.unitColumn, o.timeColumn);
  for (const c of m.conditions) cols.push(c.column, c.onsetColumn, c.abatementColumn);
  for (const i of m.immunizations) cols.push(i.column, i.timeColumn);
  for (const e of m.exposures) cols.push(e.column);
  for (const c of m.consent) cols.push(c.column, c.timeColumn);
  if (m.label) cols.push(m.label.column, m.label.timeColumn);
  return [...new Set(cols.filter((c): c is string => c !== undefined))];
}
