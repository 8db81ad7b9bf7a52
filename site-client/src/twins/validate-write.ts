import type { TwinWrite } from './store-types';

const SEXES = new Set(['female', 'male', 'other', 'unknown']);
const SOURCES = new Set(['fhir', 'csv', 'stream']);
const PURPOSES = new Set(['model-training', 'scoring']);
const DECISIONS = new Set(['permit', 'deny']);
const CONDITION_SYSTEMS = new Set(['snomed', 'icd10', 'other']);
/** FHIR `date`: YYYY, YYYY-MM or YYYY-MM-DD. */
export const FHIR_DATE = /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/;
const MAX_TEXT = 256;

const text = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_TEXT;
const ms = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const msOrNull = (v: unknown): boolean => v === null || ms(v);

/**
 * Why a write cannot be stored, or null when it is well-formed. Both store implementations run this first,
 * so a malformed write from any channel is refused the same way. Reasons never echo identifiers.
 */
export function invalidWrite(w: TwinWrite): string | null {
  if (w.type === 'patient') {
    if (!text(w.hospitalId)) return 'hospital id must be a non-empty string of at most 256 characters';
    if (w.aliases !== undefined && !w.aliases.every(text)) return 'aliases must be non-empty strings';
    if (
      w.birthDate !== undefined &&
      w.birthDate !== null &&
      !(typeof w.birthDate === 'string' && FHIR_DATE.test(w.birthDate))
    ) {
      return 'birthDate must be YYYY, YYYY-MM or YYYY-MM-DD';
    }
    if (w.sex !== undefined && !SEXES.has(w.sex)) return 'sex must be female, male, other or unknown';
    return null;
  }
  if (typeof w.sourceId !== 'string' || w.sourceId.length === 0 || w.sourceId.length > 1024)
    return 'sourceId must be a non-empty string of at most 1024 characters';
  switch (w.type) {
    case 'observation':
      if (!text(w.code)) return 'observation code is required';
      if (!ms(w.t)) return 'observation time must be integer milliseconds';
      if (typeof w.value !== 'number' || !Number.isFinite(w.value)) return 'observation value must be a finite number';
      if (typeof w.unit !== 'string' || w.unit.length > MAX_TEXT) return 'observation unit must be a string';
      if (!SOURCES.has(w.source)) return 'observation source must be fhir, csv or stream';
      return null;
    case 'condition':
      if (!CONDITION_SYSTEMS.has(w.system)) return 'condition system must be snomed, icd10 or other';
      if (!text(w.code)) return 'condition code is required';
      if (!msOrNull(w.onset) || !msOrNull(w.abatement))
        return 'condition onset and abatement must be integer milliseconds or null';
      return null;
    case 'immunization':
      if (!text(w.cvx)) return 'immunization CVX code is required';
      return ms(w.t) ? null : 'immunization time must be integer milliseconds';
    case 'exposure':
      if (!text(w.kind)) return 'exposure kind is required';
      return ms(w.t) ? null : 'exposure time must be integer milliseconds';
    case 'consent':
      if (!PURPOSES.has(w.purpose)) return 'consent purpose must be model-training or scoring';
      if (!DECISIONS.has(w.decision)) return 'consent decision must be permit or deny';
      return ms(w.t) ? null : 'consent time must be integer milliseconds';
    case 'label':
      if (typeof w.value !== 'number' || !Number.isFinite(w.value)) return 'label value must be a finite number';
      return ms(w.t) ? null : 'label time must be integer milliseconds';
    default:
      return 'unknown write type';
  }
}
