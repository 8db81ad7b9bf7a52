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

const column = z.string().min(1);
const zone = z.string().regex(/^(Z|[+-]\d{2}:\d{2})$/, "must be 'Z' or ±hh:mm");
const instant = z.string().refine((s) => parseInstant(s) !== null, 'must be a FHIR dateTime with a zone, or a date');
const time = { timeColumn: column.optional(), fixedTime: instant.optional() };
const lower = z.string().transform((s) => s.trim().toLowerCase());

const ObservationColumn = z.object({ column, code: z.string().min(1), unit: z.string().optional(), unitColumn: column.optional(), ...time });
const ConditionColumn = z.object({
  column,
  system: z.enum(['snomed', 'icd10']),
  /** With `code`, the column is a yes/no flag for that code; without, the cell holds the code(s). */
  code: z.string().min(1).optional(),
  present: z.array(lower).min(1).default(['1', 'true', 'yes', 'y', 'x']),
  absent: z.array(lower).default(['0', 'false', 'no', 'n']),
  /** Splits a cell holding several codes (code mode). */
  separator: z.string().min(1).default(';'),
  onsetColumn: column.optional(),
  abatementColumn: column.optional(),
});
const ImmunizationColumn = z.object({
  column,
  /** With `cvx`, the cell is the vaccination date; without, the cell holds the CVX code and the time comes from the time spec. */
  cvx: z.string().min(1).optional(),
  ...time,
});
const ExposureColumn = z.object({ column, /** The cell is the exposure date. */ kind: z.string().min(1).default('contact') });
const ConsentColumn = z.object({
  column,
  purpose: z.enum(['model-training', 'scoring']),
  permit: z.array(lower).min(1).default(['permit', 'yes', 'y', '1', 'true']),
  deny: z.array(lower).min(1).default(['deny', 'no', 'n', '0', 'false']),
  ...time,
});
const LabelColumn = z.object({
  column,
  positive: z.array(lower).min(1).default(['1', 'true', 'yes', 'y']),
  negative: z.array(lower).min(1).default(['0', 'false', 'no', 'n']),
  ...time,
});

export const CsvIngestMappingSchema = z.object({
  delimiter: z.string().length(1).default(','),
  timeZone: zone.default('Z'),
  patient: z.object({
    idColumn: column,
    birthDateColumn: column.optional(),
    sexColumn: column.optional(),
    /** Cell value (case-insensitive) → sex; defaults cover f/female/w, m/male, o/other, u/unknown. */
    sexValues: z.record(z.string(), z.enum(['female', 'male', 'other', 'unknown'])).optional(),
  }),
  ...time,
  observations: z.array(ObservationColumn).default([]),
  conditions: z.array(ConditionColumn).default([]),
  immunizations: z.array(ImmunizationColumn).default([]),
  exposures: z.array(ExposureColumn).default([]),
  consent: z.array(ConsentColumn).default([]),
  label: LabelColumn.optional(),
});
/** A validated CSV ingest mapping (defaults filled in). */
export type CsvIngestMapping = z.infer<typeof CsvIngestMappingSchema>;

/** Validates a mapping (parsed JSON); throws VALIDATION_FAILED naming the first problem. */
export function parseCsvIngestMapping(raw: unknown): CsvIngestMapping {
  const r = CsvIngestMappingSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new TwinfedError('VALIDATION_FAILED', `The CSV mapping is invalid: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}.`);
}

/** Every column the mapping reads. */
export function mappedColumns(m: CsvIngestMapping): string[] {
  const cols: (string | undefined)[] = [m.patient.idColumn, m.patient.birthDateColumn, m.patient.sexColumn, m.timeColumn];
  for (const o of m.observations) cols.push(o.column, o.unitColumn, o.timeColumn);
  for (const c of m.conditions) cols.push(c.column, c.onsetColumn, c.abatementColumn);
  for (const i of m.immunizations) cols.push(i.column, i.timeColumn);
  for (const e of m.exposures) cols.push(e.column);
  for (const c of m.consent) cols.push(c.column, c.timeColumn);
  if (m.label) cols.push(m.label.column, m.label.timeColumn);
  return [...new Set(cols.filter((c): c is string => c !== undefined))];
}
