/**
 * The digital twin of one consenting patient, as the site's twin store hands it to feature derivation,
 * scoring and training. Everything here stays at the site: the pseudonymous id is an HMAC of the
 * hospital's own id with a site secret, and the hospital id itself never leaves the twin store.
 */

/** One time-stamped measurement (vital, lab, wearable sample), already in canonical units (UCUM). */
export interface TwinObservation {
  /** LOINC code, e.g. '8867-4' heart rate. */
  code: string;
  /** Milliseconds since epoch. */
  t: number;
  value: number;
  /** Canonical UCUM unit after normalisation (e.g. 'Cel', '/min', '%', 'kg/m2', 'mm[Hg]'). */
  unit: string;
  /** Where it came from: 'fhir', 'csv' or 'stream'. */
  source: 'fhir' | 'csv' | 'stream';
}

/** A diagnosis (SNOMED CT or ICD-10). */
export interface TwinCondition {
  system: 'snomed' | 'icd10' | 'other';
  code: string;
  onset: number | null;
  /** Null while active. */
  abatement: number | null;
}

/** A vaccination (CVX code). */
export interface TwinImmunization {
  cvx: string;
  t: number;
}

/** A recorded exposure to a threat (e.g. a contact with a confirmed case). */
export interface TwinExposure {
  kind: string;
  t: number;
}

/** Consent for a purpose at a time: the latest decision per purpose wins. */
export interface ConsentEvent {
  purpose: 'model-training' | 'scoring';
  decision: 'permit' | 'deny';
  t: number;
}

/** A patient's twin at a point in time. */
export interface TwinSnapshot {
  /** Pseudonymous id (HMAC-SHA256 of the hospital id with the site secret, hex); never the hospital id. */
  pid: string;
  birthDate: string | null;
  sex: 'female' | 'male' | 'other' | 'unknown';
  observations: TwinObservation[];
  conditions: TwinCondition[];
  immunizations: TwinImmunization[];
  exposures: TwinExposure[];
  consent: ConsentEvent[];
  /** Outcome label for supervised training when known (1 = the threat materialised), else null. */
  label: number | null;
}
