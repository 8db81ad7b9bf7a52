import { DAY_MS, SeededRandom, TwinfedError } from '@twinfed/shared';
import { COMORBIDITIES, EXPOSURE_KIND, type Comorbidity, type DIAGNOSES } from './codes';
import { susceptibility, type SusceptibilityInputs } from './ground-truth';
import { identityOf, mrnOf, resourceUuid } from './people';
import { HOSPITAL_PROFILES, type HospitalProfile, type HospitalProfileName } from './profiles';
import { withFollowUp } from './follow-up';
import { observationsOf, type Physiology, type SimObservation } from './series';

/** A diagnosis of a simulated patient (codes in `DIAGNOSES`). */
export interface SimCondition {
  readonly key: keyof typeof DIAGNOSES;
  readonly onset: number;
  readonly abatement: number | null;
}

/** One simulated patient: hospital identity, records, and the ground truth behind them. */
export interface SimPatient {
  readonly index: number;
  /** FHIR resource id of the Patient (UUID-shaped). */
  readonly id: string;
  /** The hospital's medical record number, e.g. `MRN-00042`. */
  readonly mrn: string;
  readonly given: string;
  readonly family: string;
  readonly sex: 'female' | 'male';
  readonly birthDate: string;
  /** Wearable device id, or null without a device. */
  readonly deviceId: string | null;
  readonly conditions: SimCondition[];
  readonly immunizations: { cvx: string; t: number }[];
  readonly exposures: { kind: string; t: number }[];
  readonly observations: SimObservation[];
  readonly consent: { purpose: 'model-training'; decision: 'permit' | 'deny'; t: number }[];
  readonly truth: {
    inputs: SusceptibilityInputs;
    probability: number;
    outcome: boolean;
    outcomeAt: number | null;
    /** With follow-up: the last contact after the snapshot (an outcome after it is not in the records). */
    followedUntil?: number;
  };
}

/** A simulated hospital's patients. The snapshot time `at` is `start + days`. */
export interface SimCohort {
  readonly profile: HospitalProfile;
  readonly seed: number;
  readonly start: number;
  readonly days: number;
  readonly at: number;
  readonly patients: SimPatient[];
}

/** Options of {@link generateCohort}. */
export interface GenerateCohortOptions {
  patients: number;
  profile: HospitalProfileName | HospitalProfile;
  seed: number;
  /** Start of the observed period (ms since epoch, or an ISO 8601 string). */
  start: number | string;
  /** Length of the observed period in days (wearable history); at least 14. */
  days: number;
  /** Days of follow-up after the snapshot (clinic contacts, some patients lost; see `follow-up.ts`); default 0, none. */
  followUpDays?: number;
}

const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const clip = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
/** Age slope (log-odds per 10 years from the hospital's mean age) of each comorbidity. */
const AGE_SLOPE: Record<Comorbidity, number> = {
  diabetes: 0.35,
  copd: 0.5,
  ckd: 0.6,
  heartFailure: 0.7,
  immunosuppressed: 0,
  hypertension: 0.5,
};

function nameHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Draws a hospital's patients, reproducibly: each patient has its own random stream from (seed, profile,
 * index), so patient i is the same whatever the cohort size. See `ground-truth.ts` for the outcome model.
 */
export function generateCohort(options: GenerateCohortOptions): SimCohort {
  const profile = typeof options.profile === 'string' ? HOSPITAL_PROFILES[options.profile] : options.profile;
  if (!profile) throw new TwinfedError('BAD_REQUEST', `Unknown hospital profile ${JSON.stringify(options.profile)}.`);
  const start = typeof options.start === 'string' ? Date.parse(options.start) : options.start;
  if (!Number.isFinite(start)) throw new TwinfedError('BAD_REQUEST', 'The start time is not a valid date.');
  if (!Number.isInteger(options.patients) || options.patients < 0)
    throw new TwinfedError('BAD_REQUEST', 'patients must be a non-negative integer');
  if (!Number.isInteger(options.days) || options.days < 14)
    throw new TwinfedError('BAD_REQUEST', 'days must be an integer of at least 14');
  const followUpDays = options.followUpDays ?? 0;
  if (!Number.isInteger(followUpDays) || followUpDays < 0 || followUpDays > 3650)
    throw new TwinfedError('BAD_REQUEST', 'follow-up days must be an integer from 0 to 3650');
  const at = start + options.days * DAY_MS;
  const salt = nameHash(profile.name);
  const patients = Array.from({ length: options.patients }, (_, index) => {
    const seed = (options.seed ^ salt ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
    const patient = simulatePatient({ index, profile, rng: new SeededRandom(seed), at, days: options.days });
    if (followUpDays === 0) return patient;
    return withFollowUp(patient, { rng: new SeededRandom((seed ^ 0x2545f491) >>> 0), at, days: followUpDays });
  });
  return { profile, seed: options.seed, start, days: options.days, at, patients };
}

function simulatePatient(args: {
  index: number;
  profile: HospitalProfile;
  rng: SeededRandom;
  at: number;
  days: number;
}): SimPatient {
  const { index, profile, rng, at, days } = args;
  const p = profile;
  const ago = (lo: number, hi: number) => at - rng.uniform(lo, hi) * DAY_MS;
  const id = resourceUuid(rng);
  const who = identityOf(index, p.female, rng);
  const age = Math.round(clip(p.age.mean + p.age.sd * rng.normal(), 18, 98));
  const atDate = new Date(at);
  const birth =
    Date.UTC(atDate.getUTCFullYear() - age, atDate.getUTCMonth(), atDate.getUTCDate()) - (1 + rng.int(364)) * DAY_MS;
  const ageZ = (age - p.age.mean) / 10;

  const has = {} as Record<Comorbidity, boolean>;
  const conditions: SimCondition[] = [];
  for (const key of COMORBIDITIES) {
    has[key] = rng.next() < sigmoid(logit(p.prevalence[key]) + AGE_SLOPE[key] * ageZ);
    if (has[key]) conditions.push({ key, onset: ago(60, 3650), abatement: null });
  }
  if (rng.next() < 0.04) conditions.push({ key: 'pneumonia', onset: ago(400, 1500), abatement: ago(300, 390) }); // an old, resolved episode

  const vaccinated = rng.next() < sigmoid(logit(p.vaccination) + 0.35 * ageZ);
  const cvx = age >= 65 ? '197' : '158';
  const immunizations = [
    ...(vaccinated ? [{ cvx, t: ago(20, 300) }] : []),
    ...(rng.next() < 0.5 ? [{ cvx, t: ago(380, 700) }] : []),
  ];
  const exposed = rng.next() < p.exposure;
  const exposures = [
    ...(exposed ? [{ kind: EXPOSURE_KIND, t: ago(0.5, 13.5) }] : []),
    ...(rng.next() < 0.05 ? [{ kind: EXPOSURE_KIND, t: ago(30, 200) }] : []),
  ];
  const device = rng.next() < sigmoid(logit(p.deviceCoverage) - 0.3 * ageZ);

  const b = (v: boolean) => (v ? 1 : 0);
  const subclinical =
    rng.next() < 0.07 + 0.06 * b(has.copd) + 0.05 * b(has.heartFailure) + 0.04 * b(has.immunosuppressed);
  const rhrBase = clip(
    66 + 4 * b(has.heartFailure) + 3 * b(has.copd) + 2 * b(has.diabetes) + 6 * rng.normal(),
    45,
    105,
  );
  const physiology: Physiology = {
    age,
    hypertension: has.hypertension,
    heartFailure: has.heartFailure,
    copd: has.copd,
    subclinical,
    rhrBase,
    rhr7: rhrBase + 8 * b(subclinical) + 2 * rng.normal(),
    spo2Base: clip(
      97.3 - 2.2 * b(has.copd) - 0.8 * b(has.heartFailure) - 0.02 * (age - 60) + 0.9 * rng.normal(),
      88,
      99.5,
    ),
    spo2Slope14: 0.03 * rng.normal() - 0.22 * b(subclinical),
    bmi: Math.round(clip(p.bmiMean + 4.5 * rng.normal(), 16, 60) * 10) / 10,
  };
  const inputs: SusceptibilityInputs = {
    age,
    diabetes: has.diabetes,
    copd: has.copd,
    ckd: has.ckd,
    heartFailure: has.heartFailure,
    immunosuppressed: has.immunosuppressed,
    vaccinated,
    restingHr7: physiology.rhr7,
    spo2Slope14: physiology.spo2Slope14,
    exposed,
  };
  const probability = susceptibility(inputs);
  const outcome = rng.next() < probability;
  const outcomeAt = outcome ? at + rng.uniform(0.5, 29.5) * DAY_MS : null;
  if (outcomeAt !== null) conditions.push({ key: 'pneumonia', onset: outcomeAt, abatement: null });

  const deviceId = device ? `wd-${p.name}-${id.slice(0, 8)}` : null;
  const observations = observationsOf({ rng, at, days, physiology, device, idPrefix: id.slice(0, 8) });
  const c = rng.next();
  const registered = at - (days + 30 + rng.int(700)) * DAY_MS;
  const consent: SimPatient['consent'] =
    c < p.consent.deny
      ? [{ purpose: 'model-training', decision: 'deny', t: registered }]
      : c < p.consent.deny + p.consent.withdraw
        ? [
            { purpose: 'model-training', decision: 'permit', t: registered },
            { purpose: 'model-training', decision: 'deny', t: ago(1, 30) },
          ]
        : [{ purpose: 'model-training', decision: 'permit', t: registered }];
  const birthDate = new Date(birth).toISOString().slice(0, 10);
  return {
    index,
    id,
    mrn: mrnOf(index),
    ...who,
    birthDate,
    deviceId,
    conditions,
    immunizations,
    exposures,
    observations,
    consent,
    truth: { inputs, probability, outcome, outcomeAt },
  };
}
