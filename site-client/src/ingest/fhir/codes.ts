/**
 * The code systems the FHIR importer reads, and twinfed's own codes for what standard FHIR has no single
 * code for. The synthetic generator writes these same codes.
 *
 * - Exposure: an `Observation` whose `code` has the coding `{system: TWINFED_SYSTEM, code: 'exposure'}`,
 *   `effectiveDateTime` = when, and the kind in `valueCodeableConcept` (first coding's code, else its text)
 *   or `valueString`; kind 'contact' when none is given.
 * - Outcome label: an `Observation` coded `{system: TWINFED_SYSTEM, code: 'outcome'}` with `valueBoolean`,
 *   `valueInteger` (0/1) or `valueQuantity.value`; the latest by time is the twin's training label.
 * - Consent purpose: a coding in `Consent.provision.purpose` or `Consent.category[].coding`:
 *   `{system: TWINFED_SYSTEM, code: 'model-training' | 'scoring'}`, or HL7 v3 ActReason
 *   (`V3_ACT_REASON`) `HRESCH` / `CLINTRCH` (research → model-training) and `TREAT` (treatment → scoring).
 *   Decision: status `active` takes `provision.type` (permit/deny); `inactive` and `rejected` are a deny
 *   (time: `meta.lastUpdated`, else `dateTime`); `draft`, `proposed`, `entered-in-error` are skipped.
 */

export const LOINC_SYSTEM = 'http://loinc.org';
export const SNOMED_SYSTEM = 'http://snomed.info/sct';
export const ICD10_SYSTEMS = ['http://hl7.org/fhir/sid/icd-10', 'http://hl7.org/fhir/sid/icd-10-cm'] as const;
export const CVX_SYSTEM = 'http://hl7.org/fhir/sid/cvx';
export const V3_ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
export const UCUM_SYSTEM = 'http://unitsofmeasure.org';
/** twinfed's code system (exposure, outcome, consent purposes). */
export const TWINFED_SYSTEM = 'https://twinfed.org/fhir/CodeSystem/twinfed';

/** twinfed codes. */
export const TWINFED_CODES = {
  exposure: 'exposure',
  outcome: 'outcome',
  modelTraining: 'model-training',
  scoring: 'scoring',
} as const;

/**
 * The LOINC codes twinfed knows by name: the one table the importer's unit rules (`ingest/units.ts`), the
 * scoring labels (`scoring/describe.ts`), the synthetic generator and its plan read. Pinned by codes.test.ts.
 */
export const LOINC = {
  heartRate: '8867-4',
  restingHeartRate: '40443-4',
  respiratoryRate: '9279-1',
  spo2: '59408-5',
  spo2Arterial: '2708-6',
  bodyTemperature: '8310-5',
  bloodPressurePanel: '85354-9',
  systolic: '8480-6',
  diastolic: '8462-4',
  bmi: '39156-5',
  bodyWeight: '29463-7',
  bodyHeight: '8302-2',
  steps: '55423-8',
  hba1c: '4548-4',
  egfr: '33914-3',
  consentDocument: '59284-0',
} as const;

/** Consent purpose codings accepted, as `system|code` → purpose. */
export const CONSENT_PURPOSES: Readonly<Record<string, 'model-training' | 'scoring'>> = {
  [`${TWINFED_SYSTEM}|model-training`]: 'model-training',
  [`${TWINFED_SYSTEM}|scoring`]: 'scoring',
  [`${V3_ACT_REASON}|HRESCH`]: 'model-training',
  [`${V3_ACT_REASON}|CLINTRCH`]: 'model-training',
  [`${V3_ACT_REASON}|TREAT`]: 'scoring',
};
