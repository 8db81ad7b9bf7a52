/** Hand-written FHIR resources for the importer tests. Hospital ids look like `MRN-...` so tests can search for them. */
import { TWINFED_SYSTEM, V3_ACT_REASON } from '../fhir/codes';

export const MR = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] };
export const MRN_SYSTEM = 'urn:oid:1.2.3.4.5';
const loinc = (code: string) => ({ coding: [{ system: 'http://loinc.org', code }] });
const ucum = (value: number, code: string) => ({ value, unit: code, system: 'http://unitsofmeasure.org', code });

export function patient(id: string, mrn: string | null, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const identifier =
    mrn === null
      ? undefined
      : [
          { system: 'urn:ssn', value: `SSN-${mrn}` },
          { type: MR, system: MRN_SYSTEM, value: mrn },
        ];
  return {
    resourceType: 'Patient',
    id,
    ...(identifier ? { identifier } : {}),
    birthDate: '1948-06-01',
    gender: 'male',
    ...extra,
  };
}

export function vital(
  id: string,
  subject: string,
  code: string,
  value: number,
  unit: string,
  when = '2024-03-01T08:00:00Z',
): Record<string, unknown> {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: loinc(code),
    subject: { reference: subject },
    effectiveDateTime: when,
    valueQuantity: ucum(value, unit),
  };
}

export function bloodPressure(
  id: string,
  subject: string,
  systolic: number,
  diastolic: number,
): Record<string, unknown> {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: loinc('85354-9'),
    subject: { reference: subject },
    effectiveDateTime: '2024-03-01T08:05:00Z',
    component: [
      { code: loinc('8480-6'), valueQuantity: ucum(systolic, 'mm[Hg]') },
      { code: loinc('8462-4'), valueQuantity: { value: diastolic, unit: 'mmHg' } },
    ],
  };
}

export function condition(
  id: string,
  subject: string,
  system: string,
  code: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    resourceType: 'Condition',
    id,
    clinicalStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
    },
    code: { coding: [{ system, code }] },
    subject: { reference: subject },
    onsetDateTime: '2015-05-01',
    ...extra,
  };
}

export function immunization(
  id: string,
  subject: string,
  cvx: string,
  when = '2023-10-01',
  status = 'completed',
): Record<string, unknown> {
  return {
    resourceType: 'Immunization',
    id,
    status,
    vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: cvx }] },
    patient: { reference: subject },
    occurrenceDateTime: when,
  };
}

export function consent(
  id: string,
  subject: string,
  type: 'permit' | 'deny',
  when: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    resourceType: 'Consent',
    id,
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '57016-8' }] }],
    patient: { reference: subject },
    dateTime: when,
    provision: {
      type,
      purpose: [
        { system: TWINFED_SYSTEM, code: 'model-training' },
        { system: V3_ACT_REASON, code: 'TREAT' },
      ],
    },
    ...extra,
  };
}

export function exposure(id: string, subject: string, when: string): Record<string, unknown> {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: TWINFED_SYSTEM, code: 'exposure' }] },
    subject: { reference: subject },
    effectiveDateTime: when,
    valueCodeableConcept: { coding: [{ system: TWINFED_SYSTEM, code: 'household-contact' }] },
  };
}

export function outcome(id: string, subject: string, positive: boolean, when: string): Record<string, unknown> {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: TWINFED_SYSTEM, code: 'outcome' }] },
    subject: { reference: subject },
    effectiveDateTime: when,
    valueBoolean: positive,
  };
}

/** A transaction-style Bundle; entries given as `[fullUrl | null, resource]`. */
export function bundle(entries: readonly (readonly [string | null, unknown])[]): string {
  return JSON.stringify(
    {
      resourceType: 'Bundle',
      type: 'collection',
      entry: entries.map(([fullUrl, resource]) => (fullUrl ? { fullUrl, resource } : { resource })),
    },
    null,
    2,
  );
}

export const ndjson = (resources: readonly unknown[]): string =>
  resources.map((r) => JSON.stringify(r)).join('\n') + '\n';
