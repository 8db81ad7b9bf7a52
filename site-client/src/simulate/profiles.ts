/**
 * Four simulated adult hospitals with different populations (non-IID): age mix, comorbidity prevalence,
 * vaccination coverage, wearable device coverage, exposure, coding habits and consent behaviour.
 */

/** Prevalence of each comorbidity across the hospital's population (age-adjusted within it). */
export interface Prevalence {
  diabetes: number;
  copd: number;
  ckd: number;
  heartFailure: number;
  immunosuppressed: number;
  /** Not in the ground truth: a realistic distractor. */
  hypertension: number;
}

/** A simulated hospital's population. */
export interface HospitalProfile {
  readonly name: string;
  readonly description: string;
  /** Age in years: normal(mean, sd) clipped to 18–98. */
  readonly age: { mean: number; sd: number };
  /** Fraction female. */
  readonly female: number;
  readonly prevalence: Prevalence;
  /** Fraction with an influenza vaccine in the past 365 days (older patients more often). */
  readonly vaccination: number;
  /** Fraction with a wearable streaming resting heart rate, SpO2 and steps (younger patients more often). */
  readonly deviceCoverage: number;
  /** Fraction with a household contact with a case in the 14 days before the snapshot. */
  readonly exposure: number;
  readonly bmiMean: number;
  /** Code system of the hospital's diagnoses. */
  readonly conditionCoding: 'snomed' | 'icd10' | 'both';
  /** Unit the hospital's thermometers report in (converted to Cel on import). */
  readonly temperatureUnit: 'Cel' | '[degF]';
  /** Fractions refusing consent for model training, and withdrawing it during the simulated period. */
  readonly consent: { deny: number; withdraw: number };
  /** Documented range of the outcome's prevalence for ≥ 2,000 patients (checked by the tests). */
  readonly expectedPrevalence: readonly [number, number];
}

/** The four profiles, by name. */
export const HOSPITAL_PROFILES = {
  'urban-teaching': {
    name: 'urban-teaching',
    description: 'Urban teaching hospital: mixed adult ages, many wearables, dense city contacts',
    age: { mean: 52, sd: 18 },
    female: 0.52,
    prevalence: {
      diabetes: 0.14,
      copd: 0.08,
      ckd: 0.09,
      heartFailure: 0.06,
      immunosuppressed: 0.07,
      hypertension: 0.3,
    },
    vaccination: 0.55,
    deviceCoverage: 0.65,
    exposure: 0.14,
    bmiMean: 27,
    conditionCoding: 'both',
    temperatureUnit: 'Cel',
    consent: { deny: 0.03, withdraw: 0.02 },
    expectedPrevalence: [0.055, 0.11],
  },
  'rural-elderly': {
    name: 'rural-elderly',
    description: 'Rural district hospital: elderly, multimorbid, few wearables, ICD-10 coded, Fahrenheit thermometers',
    age: { mean: 72, sd: 10 },
    female: 0.56,
    prevalence: {
      diabetes: 0.24,
      copd: 0.17,
      ckd: 0.16,
      heartFailure: 0.13,
      immunosuppressed: 0.03,
      hypertension: 0.52,
    },
    vaccination: 0.66,
    deviceCoverage: 0.2,
    exposure: 0.06,
    bmiMean: 29,
    conditionCoding: 'icd10',
    temperatureUnit: '[degF]',
    consent: { deny: 0.05, withdraw: 0.02 },
    expectedPrevalence: [0.085, 0.16],
  },
  'suburban-community': {
    name: 'suburban-community',
    description: 'Suburban community hospital: younger, healthier, low vaccination coverage',
    age: { mean: 44, sd: 15 },
    female: 0.51,
    prevalence: {
      diabetes: 0.09,
      copd: 0.05,
      ckd: 0.05,
      heartFailure: 0.03,
      immunosuppressed: 0.03,
      hypertension: 0.22,
    },
    vaccination: 0.38,
    deviceCoverage: 0.45,
    exposure: 0.1,
    bmiMean: 27.5,
    conditionCoding: 'snomed',
    temperatureUnit: 'Cel',
    consent: { deny: 0.02, withdraw: 0.01 },
    expectedPrevalence: [0.025, 0.07],
  },
  'oncology-center': {
    name: 'oncology-center',
    description: 'Comprehensive cancer centre: many immunosuppressed patients, well vaccinated, monitored at home',
    age: { mean: 61, sd: 13 },
    female: 0.5,
    prevalence: {
      diabetes: 0.15,
      copd: 0.09,
      ckd: 0.12,
      heartFailure: 0.07,
      immunosuppressed: 0.45,
      hypertension: 0.35,
    },
    vaccination: 0.76,
    deviceCoverage: 0.6,
    exposure: 0.07,
    bmiMean: 25.5,
    conditionCoding: 'snomed',
    temperatureUnit: 'Cel',
    consent: { deny: 0.04, withdraw: 0.03 },
    expectedPrevalence: [0.075, 0.145],
  },
} as const satisfies Record<string, HospitalProfile>;

/** A profile name. */
export type HospitalProfileName = keyof typeof HOSPITAL_PROFILES;

/** The profile names, in a fixed order. */
export const HOSPITAL_PROFILE_NAMES = Object.keys(HOSPITAL_PROFILES) as HospitalProfileName[];
