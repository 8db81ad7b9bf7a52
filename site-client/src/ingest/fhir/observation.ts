/**
 * FHIR Observation → observation writes (LOINC-coded quantities in canonical units; a panel's components
 * each become one observation, e.g. blood pressure 85354-9 → 8480-6 and 8462-4), or an exposure or outcome
 * label when coded with twinfed's codes (see `codes.ts`).
 */
import type { PatientRef, TwinWrite } from '../../twins/store-types';
import { observationWrite } from '../core';
import { CODE_UNITS } from '../units';
import { LOINC_SYSTEM, TWINFED_CODES, TWINFED_SYSTEM, UCUM_SYSTEM } from './codes';
import {
  codingIn,
  optionalTime,
  rejectAt,
  sourceBase,
  subjectOf,
  type ConvertContext,
  type Converted,
} from './convert-common';
import type { FhirEntry } from './read';
import { ObservationSchema, parseResource, type CodeableConcept, type FhirObservation, type Quantity } from './schemas';

const SKIPPED_STATUSES = new Set(['registered', 'cancelled', 'entered-in-error']);

/** The unit to normalise: the UCUM code when the quantity carries one, else its display unit. */
const unitOf = (q: Quantity): string | undefined =>
  q.code && (q.system === undefined || q.system === UCUM_SYSTEM) ? q.code : q.unit;

/** The LOINC code of a concept, preferring one the unit table knows. */
function loincOf(concept: CodeableConcept, ctx: ConvertContext): string | undefined {
  const codes = (concept.coding ?? [])
    .filter((c) => c.system === LOINC_SYSTEM && c.code?.trim())
    .map((c) => c.code!.trim());
  const known = ctx.units.codes ?? CODE_UNITS;
  return codes.find((c) => Object.prototype.hasOwnProperty.call(known, c)) ?? codes[0];
}

export function convertObservation(entry: FhirEntry, ctx: ConvertContext): Converted {
  const parsed = parseResource(ObservationSchema, entry.resource);
  if (!parsed.ok) return rejectAt(parsed.path, parsed.reason);
  const o = parsed.value;
  if (o.status !== undefined && SKIPPED_STATUSES.has(o.status)) return { skip: `Observation:${o.status}` };
  const [path, raw] =
    o.effectiveDateTime !== undefined
      ? ['effectiveDateTime', o.effectiveDateTime]
      : o.effectiveInstant !== undefined
        ? ['effectiveInstant', o.effectiveInstant]
        : ['effectivePeriod.start', o.effectivePeriod?.start];
  if (raw === undefined)
    return rejectAt(
      'effective[x]',
      'effective[x]: an effectiveDateTime, effectiveInstant or effectivePeriod.start is required',
    );
  const time = optionalTime(path, raw);
  if (!time.ok) return time.converted;
  const subject = subjectOf(ctx, 'subject', o.subject);
  if (!subject.ok) return subject.converted;
  const base = sourceBase('Observation', o.id, entry);
  const twinfed = codingIn(o.code, [TWINFED_SYSTEM]);
  if (twinfed)
    return twinfedObservation({ o, code: twinfed.code, patient: subject.patient, t: time.t!, sourceId: base });
  const code = loincOf(o.code, ctx);
  if (!code) return rejectAt('code.coding', 'code.coding: no LOINC coding (system http://loinc.org)');
  const writes: TwinWrite[] = [];
  const add = (at: string, loinc: string, q: Quantity, sourceId: string): string | null => {
    const r = observationWrite(
      { patient: subject.patient, sourceId, code: loinc, t: time.t!, value: q.value, unit: unitOf(q), source: 'fhir' },
      ctx.units,
    );
    if ('reason' in r) return `${at}: ${r.reason}`;
    writes.push(r.write);
    return null;
  };
  if (o.valueQuantity) {
    const bad = add('valueQuantity', code, o.valueQuantity, base);
    if (bad) return rejectAt('valueQuantity', bad);
  }
  for (const [i, c] of (o.component ?? []).entries()) {
    const componentCode = loincOf(c.code, ctx);
    if (!componentCode || !c.valueQuantity) continue;
    const bad = add(`component[${i}].valueQuantity`, componentCode, c.valueQuantity, `${base}#${componentCode}`);
    if (bad) return rejectAt(`component[${i}].valueQuantity`, bad);
  }
  if (writes.length === 0)
    return rejectAt('value[x]', 'value[x]: no valueQuantity (nor a LOINC-coded component with one) to import');
  return { writes };
}

function twinfedObservation(input: {
  o: FhirObservation;
  code: string;
  patient: PatientRef;
  t: number;
  sourceId: string;
}): Converted {
  const { o, patient, t, sourceId } = input;
  if (input.code === TWINFED_CODES.exposure) {
    const concept = o.valueCodeableConcept;
    const kind = (
      concept?.coding?.find((c) => c.code?.trim())?.code ??
      concept?.text ??
      o.valueString ??
      'contact'
    ).trim();
    if (kind === '') return rejectAt('value[x]', 'value[x]: the exposure kind is empty');
    return { writes: [{ type: 'exposure', patient, sourceId, kind, t }] };
  }
  if (input.code === TWINFED_CODES.outcome) {
    const value = o.valueBoolean !== undefined ? (o.valueBoolean ? 1 : 0) : (o.valueInteger ?? o.valueQuantity?.value);
    if (value === undefined)
      return rejectAt('value[x]', 'value[x]: an outcome needs valueBoolean, valueInteger or valueQuantity');
    if (value !== 0 && value !== 1) return rejectAt('value[x]', 'value[x]: an outcome is 0 or 1');
    return { writes: [{ type: 'label', patient, sourceId, value, t }] };
  }
  return rejectAt(
    'code.coding',
    `code.coding: twinfed code '${input.code}' is not an observation code (expected exposure or outcome)`,
  );
}
