/**
 * The record tables of a twin and, for each, the columns a write stores (in order). Both store
 * implementations compare and persist a write as this tuple, so "identical re-import" means the same
 * thing everywhere.
 */
import type { TwinWrite } from './store-types';

/** A non-patient write. */
export type RecordWrite = Exclude<TwinWrite, { type: 'patient' }>;
/** Its record type. */
export type RecordType = RecordWrite['type'];
/** Stored column values of one record, in the order of {@link RECORD_TABLES}[type].columns. */
export type RecordContent = readonly (string | number | null)[];

/** Table and stored columns per record type. */
export const RECORD_TABLES = {
  observation: { table: 'observations', columns: ['code', 't', 'value', 'unit', 'source'] },
  condition: { table: 'conditions', columns: ['system', 'code', 'onset', 'abatement'] },
  immunization: { table: 'immunizations', columns: ['cvx', 't'] },
  exposure: { table: 'exposures', columns: ['kind', 't'] },
  consent: { table: 'consent_events', columns: ['purpose', 'decision', 't'] },
  label: { table: 'labels', columns: ['value', 't'] },
} as const satisfies Record<RecordType, { table: string; columns: readonly string[] }>;

/** The stored tuple of a record write. */
export function contentOf(w: RecordWrite): RecordContent {
  switch (w.type) {
    case 'observation':
      return [w.code, w.t, w.value, w.unit, w.source];
    case 'condition':
      return [w.system, w.code, w.onset, w.abatement];
    case 'immunization':
      return [w.cvx, w.t];
    case 'exposure':
      return [w.kind, w.t];
    case 'consent':
      return [w.purpose, w.decision, w.t];
    case 'label':
      return [w.value, w.t];
  }
}

/** True when two stored tuples are the same. */
export function sameContent(a: RecordContent, b: RecordContent): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
