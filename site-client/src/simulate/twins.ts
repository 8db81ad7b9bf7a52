import { createHash } from 'node:crypto';
import type { TwinSnapshot } from '../twins/types';
import { DIAGNOSES } from './codes';
import type { SimCohort, SimPatient } from './cohort';

/** Options of {@link cohortTwins}. */
interface CohortTwinsOptions {
  /** The pseudonymous id of a patient; default a SHA-256 of the hospital and MRN (tests and benchmarks only). */
  pidOf?: (patient: SimPatient) => string;
}

/**
 * The twins a site's store would hold after importing the cohort's bundles and wearable stream, built
 * directly (for tests, benchmarks and demos that skip ingestion): canonical units, SNOMED codes unless the
 * hospital codes in ICD-10 only (the importer prefers SNOMED), clinic values from `fhir`, samples from
 * `stream`, consent for model training, no stored label (the plan's label rule derives it).
 */
export function cohortTwins(cohort: SimCohort, options: CohortTwinsOptions = {}): TwinSnapshot[] {
  const pidOf =
    options.pidOf ?? ((p: SimPatient) => createHash('sha256').update(`${cohort.profile.name}\n${p.mrn}`).digest('hex'));
  const icdOnly = cohort.profile.conditionCoding === 'icd10';
  return cohort.patients.map((p) => ({
    pid: pidOf(p),
    birthDate: p.birthDate,
    sex: p.sex,
    observations: p.observations.map((o) => ({
      code: o.code,
      t: o.t,
      value: o.value,
      unit: o.unit,
      source: o.channel === 'clinic' ? ('fhir' as const) : ('stream' as const),
    })),
    conditions: p.conditions.map((c) => ({
      system: icdOnly ? ('icd10' as const) : ('snomed' as const),
      code: icdOnly ? DIAGNOSES[c.key].icd10 : DIAGNOSES[c.key].snomed,
      onset: c.onset,
      abatement: c.abatement,
    })),
    immunizations: p.immunizations.map((i) => ({ ...i })),
    exposures: p.exposures.map((e) => ({ ...e })),
    consent: p.consent.map((c) => ({ ...c })),
    label: null,
  }));
}
