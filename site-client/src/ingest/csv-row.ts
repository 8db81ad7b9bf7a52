/**
 * One CSV row → twin writes per its mapping. Each mapped cell is its own item: a bad cell is rejected
 * (with its line and column, never its content) and the row's other cells still land. Source ids derive
 * from the pseudonymous id, the column and the time, so a re-import of the same export is idempotent and a
 * changed value for the same patient, column and time is a correction.
 */
import type { PatientRef, TwinSex, TwinWrite } from '../twins/store-types';
import { observationWrite, type IngestOrigin } from './core';
import type { CsvIngestMapping } from './csv-mapping';
import type { IngestRejection } from './report';
import { parseInstant } from './time';
import type { NormalizeOptions } from './units';

export type CsvRecord = Record<string, string | undefined>;

/** What a row yields: record writes with their origin, and rejections. */
interface RowResult {
  items: { write: TwinWrite; origin: IngestOrigin }[];
  rejected: IngestRejection[];
}

interface RowContext {
  mapping: CsvIngestMapping;
  row: CsvRecord;
  line: number;
  pid: string;
  patient: PatientRef;
  units: NormalizeOptions;
  out: RowResult;
}

const cell = (row: CsvRecord, col: string | undefined): string => (col === undefined ? '' : (row[col] ?? '').trim());

/** Time of an item: its own column or fixed time, else the mapping's; a message when missing or bad. */
function timeOf(
  ctx: RowContext,
  spec: { timeColumn?: string | undefined; fixedTime?: string | undefined },
): number | string {
  const col = spec.timeColumn ?? (spec.fixedTime === undefined ? ctx.mapping.timeColumn : undefined);
  const text = col !== undefined ? cell(ctx.row, col) : (spec.fixedTime ?? ctx.mapping.fixedTime);
  if (text === undefined) return 'no time: give a timeColumn or fixedTime in the mapping';
  if (text === '') return `the time column ${col} is empty`;
  const t = parseInstant(text, { defaultZone: ctx.mapping.timeZone });
  return t ?? `${col !== undefined ? `the time in column ${col}` : 'the fixed time'} is not a date or dateTime`;
}

function reject(ctx: RowContext, resourceType: string, column: string, reason: string): void {
  ctx.out.rejected.push({ resourceType, line: ctx.line, path: column, reason: `${column}: ${reason}` });
}

function add(ctx: RowContext, resourceType: string, column: string, write: TwinWrite): void {
  ctx.out.items.push({ write, origin: { resourceType, line: ctx.line, path: column } });
}

/** Converts the mapped cells of one row (the patient write is handled by the caller). */
export function convertRow(input: Omit<RowContext, 'out'>): RowResult {
  const ctx: RowContext = { ...input, out: { items: [], rejected: [] } };
  const { mapping, row, pid, patient } = ctx;
  for (const o of mapping.observations) {
    const text = cell(row, o.column);
    if (text === '') continue;
    const value = Number(text);
    if (!Number.isFinite(value)) {
      reject(ctx, 'Observation', o.column, 'not a number');
      continue;
    }
    const t = timeOf(ctx, o);
    if (typeof t === 'string') {
      reject(ctx, 'Observation', o.column, t);
      continue;
    }
    const unit = o.unitColumn !== undefined ? cell(row, o.unitColumn) || undefined : o.unit;
    const r = observationWrite(
      { patient, sourceId: `csv:${pid}:obs:${o.column}:${o.code}:${t}`, code: o.code, t, value, unit, source: 'csv' },
      ctx.units,
    );
    if ('reason' in r) reject(ctx, 'Observation', o.column, r.reason);
    else add(ctx, 'Observation', o.column, r.write);
  }
  conditions(ctx);
  events(ctx);
  return ctx.out;
}

function conditions(ctx: RowContext): void {
  const { row, pid, patient } = ctx;
  for (const c of ctx.mapping.conditions) {
    const text = cell(row, c.column);
    if (text === '') continue;
    let codes: string[];
    if (c.code !== undefined) {
      const v = text.toLowerCase();
      if (c.absent.includes(v)) continue;
      if (!c.present.includes(v)) {
        reject(ctx, 'Condition', c.column, 'not one of the declared present/absent values');
        continue;
      }
      codes = [c.code];
    } else {
      codes = text
        .split(c.separator)
        .map((s) => s.trim())
        .filter((s) => s !== '');
    }
    const onsetText = cell(row, c.onsetColumn);
    const endText = cell(row, c.abatementColumn);
    const onset = onsetText === '' ? null : parseInstant(onsetText, { defaultZone: ctx.mapping.timeZone });
    const abatement = endText === '' ? null : parseInstant(endText, { defaultZone: ctx.mapping.timeZone });
    if ((onsetText !== '' && onset === null) || (endText !== '' && abatement === null)) {
      reject(ctx, 'Condition', c.column, 'the onset or abatement is not a date or dateTime');
      continue;
    }
    for (const raw of codes) {
      const code = c.system === 'icd10' ? raw.toUpperCase() : raw;
      add(ctx, 'Condition', c.column, {
        type: 'condition',
        patient,
        sourceId: `csv:${pid}:condition:${c.column}:${c.system}:${code}`,
        system: c.system,
        code,
        onset,
        abatement,
      });
    }
  }
}

function events(ctx: RowContext): void {
  const { mapping, row, pid, patient } = ctx;
  const dateCell = (col: string, type: string): number | null => {
    const t = parseInstant(cell(row, col), { defaultZone: mapping.timeZone });
    if (t === null) reject(ctx, type, col, 'not a date or dateTime');
    return t;
  };
  for (const i of mapping.immunizations) {
    const text = cell(row, i.column);
    if (text === '') continue;
    const t = i.cvx !== undefined ? dateCell(i.column, 'Immunization') : timeOf(ctx, i);
    if (t === null) continue;
    if (typeof t === 'string') {
      reject(ctx, 'Immunization', i.column, t);
      continue;
    }
    const cvx = i.cvx ?? text;
    add(ctx, 'Immunization', i.column, {
      type: 'immunization',
      patient,
      sourceId: `csv:${pid}:imm:${i.column}:${cvx}:${t}`,
      cvx,
      t,
    });
  }
  for (const e of mapping.exposures) {
    if (cell(row, e.column) === '') continue;
    const t = dateCell(e.column, 'Exposure');
    if (t !== null)
      add(ctx, 'Exposure', e.column, {
        type: 'exposure',
        patient,
        sourceId: `csv:${pid}:exposure:${e.column}:${t}`,
        kind: e.kind,
        t,
      });
  }
  for (const c of mapping.consent) {
    const v = cell(row, c.column).toLowerCase();
    if (v === '') continue;
    const decision = c.permit.includes(v) ? 'permit' : c.deny.includes(v) ? 'deny' : null;
    const t = timeOf(ctx, c);
    if (decision === null) reject(ctx, 'Consent', c.column, 'not one of the declared permit/deny values');
    else if (typeof t === 'string') reject(ctx, 'Consent', c.column, t);
    else
      add(ctx, 'Consent', c.column, {
        type: 'consent',
        patient,
        sourceId: `csv:${pid}:consent:${c.column}:${c.purpose}:${decision}:${t}`,
        purpose: c.purpose,
        decision,
        t,
      });
  }
  const l = mapping.label;
  const v = l ? cell(row, l.column).toLowerCase() : '';
  if (l && v !== '') {
    const value = l.positive.includes(v) ? 1 : l.negative.includes(v) ? 0 : null;
    const t = timeOf(ctx, l);
    if (value === null) reject(ctx, 'Label', l.column, 'not one of the declared positive/negative values');
    else if (typeof t === 'string') reject(ctx, 'Label', l.column, t);
    else
      add(ctx, 'Label', l.column, { type: 'label', patient, sourceId: `csv:${pid}:label:${l.column}:${t}`, value, t });
  }
}

const DEFAULT_SEX: Readonly<Record<string, TwinSex>> = {
  f: 'female',
  female: 'female',
  w: 'female',
  m: 'male',
  male: 'male',
  o: 'other',
  other: 'other',
  u: 'unknown',
  unknown: 'unknown',
};

/** The sex a cell names (mapping values first, then the defaults), or null. */
export function sexOf(mapping: CsvIngestMapping, text: string): TwinSex | null {
  const v = text.trim().toLowerCase();
  for (const [k, sex] of Object.entries(mapping.patient.sexValues ?? {})) if (k.trim().toLowerCase() === v) return sex;
  return DEFAULT_SEX[v] ?? null;
}
