/**
 * zod schemas of the FHIR R4 subset the importer reads (only the elements it uses; other elements are
 * ignored). Validation is deliberately about what twinfed needs: a resource that parses here can still be
 * refused by its converter (e.g. no LOINC coding, unknown unit).
 */
import { z } from 'zod';
import { FHIR_DATE } from '../../twins/validate-write';

/** FHIR `id`: 1-64 of [A-Za-z0-9-.]. */
const FhirId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a FHIR id (1-64 letters, digits, - or .)');

export const Coding = z.object({
  system: z.string().optional(),
  code: z.string().optional(),
  display: z.string().optional(),
});
export type Coding = z.infer<typeof Coding>;

export const CodeableConcept = z.object({ coding: z.array(Coding).optional(), text: z.string().optional() });
export type CodeableConcept = z.infer<typeof CodeableConcept>;

export const Identifier = z.object({
  use: z.string().optional(),
  type: CodeableConcept.optional(),
  system: z.string().optional(),
  value: z.string().optional(),
});
export type Identifier = z.infer<typeof Identifier>;

export const Reference = z
  .object({ reference: z.string().optional(), identifier: Identifier.optional() })
  .refine(
    (r) => (r.reference ?? '') !== '' || (r.identifier?.value ?? '') !== '',
    'a reference or identifier.value is required',
  );
export type Reference = z.infer<typeof Reference>;

export const Quantity = z.object({
  value: z.number({ error: 'must be a number' }),
  unit: z.string().optional(),
  system: z.string().optional(),
  code: z.string().optional(),
});
export type Quantity = z.infer<typeof Quantity>;

const Period = z.object({ start: z.string().optional(), end: z.string().optional() });
const Meta = z.object({ lastUpdated: z.string().optional(), versionId: z.string().optional() });

export const PatientSchema = z.object({
  resourceType: z.literal('Patient'),
  id: FhirId.optional(),
  identifier: z.array(Identifier).optional(),
  birthDate: z.string().regex(FHIR_DATE, 'must be a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)').optional(),
  gender: z.enum(['male', 'female', 'other', 'unknown']).optional(),
});

export const ObservationSchema = z.object({
  resourceType: z.literal('Observation'),
  id: FhirId.optional(),
  status: z.string().optional(),
  code: CodeableConcept,
  subject: Reference,
  effectiveDateTime: z.string().optional(),
  effectiveInstant: z.string().optional(),
  effectivePeriod: Period.optional(),
  valueQuantity: Quantity.optional(),
  valueCodeableConcept: CodeableConcept.optional(),
  valueString: z.string().optional(),
  valueBoolean: z.boolean().optional(),
  valueInteger: z.number().int().optional(),
  component: z.array(z.object({ code: CodeableConcept, valueQuantity: Quantity.optional() })).optional(),
});
export type FhirObservation = z.infer<typeof ObservationSchema>;

export const ConditionSchema = z.object({
  resourceType: z.literal('Condition'),
  id: FhirId.optional(),
  clinicalStatus: CodeableConcept.optional(),
  verificationStatus: CodeableConcept.optional(),
  code: CodeableConcept,
  subject: Reference,
  onsetDateTime: z.string().optional(),
  onsetPeriod: Period.optional(),
  abatementDateTime: z.string().optional(),
  abatementPeriod: Period.optional(),
  recordedDate: z.string().optional(),
});

export const ImmunizationSchema = z.object({
  resourceType: z.literal('Immunization'),
  id: FhirId.optional(),
  status: z.string(),
  vaccineCode: CodeableConcept,
  patient: Reference,
  occurrenceDateTime: z.string().optional(),
  occurrenceString: z.string().optional(),
});

export const ConsentSchema = z.object({
  resourceType: z.literal('Consent'),
  id: FhirId.optional(),
  meta: Meta.optional(),
  status: z.string(),
  patient: Reference,
  dateTime: z.string().optional(),
  category: z.array(CodeableConcept).optional(),
  provision: z.object({ type: z.enum(['permit', 'deny']).optional(), purpose: z.array(Coding).optional() }).optional(),
});
export type FhirConsent = z.infer<typeof ConsentSchema>;

/** The JSON path of a zod issue path (`component[1].valueQuantity.value`). */
function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${String(p)}`;
  return out;
}

/** Parses a resource; on failure, the first issue as `{path, reason}`. */
export function parseResource<T>(
  schema: z.ZodType<T>,
  resource: unknown,
): { ok: true; value: T } | { ok: false; path: string; reason: string } {
  const r = schema.safeParse(resource);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  const path = issue ? jsonPath(issue.path) : '';
  return { ok: false, path, reason: `${path || '(resource)'}: ${issue?.message ?? 'invalid'}` };
}
