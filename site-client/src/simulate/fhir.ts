import {
  CVX_SYSTEM,
  ICD10_SYSTEMS,
  LOINC,
  LOINC_SYSTEM,
  SNOMED_SYSTEM,
  TWINFED_CODES,
  TWINFED_SYSTEM,
  UCUM_SYSTEM,
  V3_ACT_REASON,
} from '../ingest/fhir/codes';
import { LOINC_NAMES, UCUM_DISPLAY } from '../scoring/describe';
import { DIAGNOSES } from './codes';
import type { SimCohort, SimPatient } from './cohort';
import type { HospitalProfile } from './profiles';
import type { SimObservation } from './series';

/** A FHIR R4 resource or Bundle as plain JSON. */
export type FhirJson = Record<string, unknown>;

const iso = (t: number) => new Date(t).toISOString();
const cc = (system: string, code: string, display?: string) => ({
  coding: [{ system, code, ...(display ? { display } : {}) }],
  ...(display ? { text: display } : {}),
});

function quantity(o: Pick<SimObservation, 'code' | 'value' | 'unit'>, profile: HospitalProfile): FhirJson {
  if (o.code === LOINC.bodyTemperature && profile.temperatureUnit === '[degF]') {
    return { value: Math.round(((o.value * 9) / 5 + 32) * 10) / 10, unit: '°F', system: UCUM_SYSTEM, code: '[degF]' };
  }
  return { value: o.value, unit: UCUM_DISPLAY[o.unit] ?? o.unit, system: UCUM_SYSTEM, code: o.unit };
}

function observationResources(p: SimPatient, profile: HospitalProfile): FhirJson[] {
  const subject = { reference: `Patient/${p.id}` };
  const category = [cc('http://terminology.hl7.org/CodeSystem/observation-category', 'vital-signs')];
  const loinc = (code: string) =>
    cc(
      LOINC_SYSTEM,
      code,
      LOINC_NAMES[code]?.name ?? (code === LOINC.bloodPressurePanel ? 'Blood pressure panel' : undefined),
    );
  const out: FhirJson[] = [];
  const panels = new Map<string, SimObservation[]>();
  for (const o of p.observations) {
    if (o.channel !== 'clinic') continue;
    if (o.panelId) {
      panels.set(o.panelId, [...(panels.get(o.panelId) ?? []), o]);
      continue;
    }
    out.push({
      resourceType: 'Observation',
      id: o.id,
      status: 'final',
      category,
      code: loinc(o.code),
      subject,
      effectiveDateTime: iso(o.t),
      valueQuantity: quantity(o, profile),
    });
  }
  for (const [id, parts] of panels) {
    const component = parts.map((o) => ({ code: loinc(o.code), valueQuantity: quantity(o, profile) }));
    out.push({
      resourceType: 'Observation',
      id,
      status: 'final',
      category,
      code: loinc(LOINC.bloodPressurePanel),
      subject,
      effectiveDateTime: iso(parts[0]!.t),
      component,
    });
  }
  p.exposures.forEach((e, i) =>
    out.push({
      resourceType: 'Observation',
      id: `${p.id.slice(0, 8)}-exposure-${i}`,
      status: 'final',
      code: cc(TWINFED_SYSTEM, TWINFED_CODES.exposure, 'Exposure'),
      subject,
      effectiveDateTime: iso(e.t),
      valueCodeableConcept: cc(TWINFED_SYSTEM, e.kind, 'Household contact with a confirmed case'),
    }),
  );
  return out;
}

function conditionResource(
  p: SimPatient,
  c: SimPatient['conditions'][number],
  i: number,
  profile: HospitalProfile,
): FhirJson {
  const dx = DIAGNOSES[c.key];
  const coding = [
    ...(profile.conditionCoding !== 'icd10' ? [{ system: SNOMED_SYSTEM, code: dx.snomed, display: dx.display }] : []),
    ...(profile.conditionCoding !== 'snomed'
      ? [{ system: ICD10_SYSTEMS[1], code: dx.icd10, display: dx.display }]
      : []),
  ];
  return {
    resourceType: 'Condition',
    id: `${p.id.slice(0, 8)}-cond-${i}`,
    clinicalStatus: cc(
      'http://terminology.hl7.org/CodeSystem/condition-clinical',
      c.abatement === null ? 'active' : 'resolved',
    ),
    verificationStatus: cc('http://terminology.hl7.org/CodeSystem/condition-ver-status', 'confirmed'),
    code: { coding, text: dx.display },
    subject: { reference: `Patient/${p.id}` },
    onsetDateTime: iso(c.onset),
    ...(c.abatement === null ? {} : { abatementDateTime: iso(c.abatement) }),
  };
}

/**
 * One FHIR R4 `collection` Bundle with everything the hospital's EHR knows about a patient: Patient (with the
 * hospital's MRN and name), clinic Observations (vitals, a blood pressure panel, BMI; temperatures in the
 * hospital's unit), exposures (twinfed-coded Observations), Conditions (the hospital's code systems; the
 * outcome dated after the snapshot), Immunizations (CVX) and Consents for model training (HL7 v3 HRESCH).
 * Wearable samples are not here: they arrive through the stream (see `wearableBatches`).
 */
export function patientBundle(p: SimPatient, profile: HospitalProfile): FhirJson {
  const patient = {
    resourceType: 'Patient',
    id: p.id,
    identifier: [
      {
        use: 'official',
        type: cc('http://terminology.hl7.org/CodeSystem/v2-0203', 'MR'),
        system: `https://${profile.name}.hospital.example/mrn`,
        value: p.mrn,
      },
    ],
    name: [{ use: 'official', family: p.family, given: [p.given] }],
    gender: p.sex,
    birthDate: p.birthDate,
  };
  const immunizations = p.immunizations.map((im, i) => ({
    resourceType: 'Immunization',
    id: `${p.id.slice(0, 8)}-imm-${i}`,
    status: 'completed',
    vaccineCode: cc(
      CVX_SYSTEM,
      im.cvx,
      im.cvx === '197' ? 'Influenza, high-dose, quadrivalent' : 'Influenza, injectable, quadrivalent',
    ),
    patient: { reference: `Patient/${p.id}` },
    occurrenceDateTime: iso(im.t),
  }));
  const consents = p.consent.map((c, i) => ({
    resourceType: 'Consent',
    id: `${p.id.slice(0, 8)}-consent-${i}`,
    status: 'active',
    scope: cc('http://terminology.hl7.org/CodeSystem/consentscope', 'research'),
    category: [cc(LOINC_SYSTEM, LOINC.consentDocument, 'Consent Document')],
    patient: { reference: `Patient/${p.id}` },
    dateTime: iso(c.t),
    provision: {
      type: c.decision,
      purpose: [{ system: V3_ACT_REASON, code: 'HRESCH', display: 'healthcare research' }],
    },
  }));
  const resources = [
    patient,
    ...observationResources(p, profile),
    ...p.conditions.map((c, i) => conditionResource(p, c, i, profile)),
    ...immunizations,
    ...consents,
  ];
  const base = `https://${profile.name}.hospital.example/fhir`;
  return {
    resourceType: 'Bundle',
    id: `${p.id.slice(0, 8)}-bundle`,
    type: 'collection',
    entry: resources.map((resource) => ({
      fullUrl: `${base}/${String(resource.resourceType)}/${String(resource.id)}`,
      resource,
    })),
  };
}

/** One wearable batch: what a device gateway posts to the site's stream endpoint. */
export interface WearableBatch {
  deviceId: string;
  /** FHIR reference of the patient, `Patient/<id>` (an alias the FHIR import registered). */
  patientRef: string;
  /** Samples in time order; `t` is an ISO 8601 instant, values in canonical UCUM units; `id` is unique per sample. */
  samples: { id: string; t: string; code: string; value: number; unit: string }[];
}

/** The wearable samples of a cohort, one batch per device, in time order. */
export function wearableBatches(cohort: SimCohort): WearableBatch[] {
  return cohort.patients
    .filter((p) => p.deviceId !== null)
    .map((p) => ({
      deviceId: p.deviceId!,
      patientRef: `Patient/${p.id}`,
      samples: p.observations
        .filter((o) => o.channel === 'wearable')
        .sort((a, b) => a.t - b.t)
        .map((o) => ({ id: o.id, t: iso(o.t), code: o.code, value: o.value, unit: o.unit })),
    }));
}
