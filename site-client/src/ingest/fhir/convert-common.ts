/** What every FHIR resource converter shares: the result type, source ids, codings, times and subjects. */
import { createHash } from 'node:crypto';
import type { PatientRef, TwinWrite } from '../../twins/store-types';
import { parseInstant } from '../time';
import type { NormalizeOptions } from '../units';
import type { FhirEntry } from './read';
import type { ReferenceResolver } from './references';
import type { CodeableConcept, Coding, Reference } from './schemas';

/** The context of one import. */
export interface ConvertContext {
  resolver: ReferenceResolver;
  units: NormalizeOptions;
}

/** A converter's answer: the writes, a deliberate skip (`Type:status`), or a rejection. */
export type Converted = { writes: TwinWrite[] } | { skip: string } | { reject: { path?: string; reason: string } };

export const rejectAt = (path: string | undefined, reason: string): Converted => ({
  reject: path === undefined ? { reason } : { path, reason },
});

/**
 * The stable source id of a resource: `fhir:<Type>/<id>`, else its fullUrl, else a hash of its JSON (so a
 * re-import of the same file is still idempotent).
 */
export function sourceBase(type: string, id: string | undefined, entry: FhirEntry): string {
  if (id) return `fhir:${type}/${id}`;
  if (entry.fullUrl) return `fhir:${type}@${entry.fullUrl}`;
  return `fhir:${type}#${createHash('sha256').update(JSON.stringify(entry.resource)).digest('hex')}`;
}

/** The first coding of `concept` in one of `systems` with a non-empty code. */
export function codingIn(
  concept: CodeableConcept | undefined,
  systems: readonly string[],
): (Coding & { code: string }) | undefined {
  return concept?.coding?.find(
    (c): c is Coding & { code: string } => c.system !== undefined && systems.includes(c.system) && !!c.code?.trim(),
  );
}

/** An optional FHIR time element: absent → null, unparseable → a rejection. */
export function optionalTime(
  path: string,
  value: string | undefined,
): { ok: true; t: number | null } | { ok: false; converted: Converted } {
  if (value === undefined) return { ok: true, t: null };
  const t = parseInstant(value);
  return t === null
    ? { ok: false, converted: rejectAt(path, `${path}: not a FHIR dateTime (a time of day needs a zone)`) }
    : { ok: true, t };
}

/** The patient a subject/patient reference names, or a rejection at `path`. */
export function subjectOf(
  ctx: ConvertContext,
  path: string,
  ref: Reference,
): { ok: true; patient: PatientRef } | { ok: false; converted: Converted } {
  const r = ctx.resolver.resolve(ref);
  return r.ok ? r : { ok: false, converted: rejectAt(path, `${path}: ${r.reason}`) };
}
