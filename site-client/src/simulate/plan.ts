import { PlanSchema, type FeatureDerivationInput, type Plan, type PlanInput } from '@twinfed/shared';
import { LOINC } from '../ingest/fhir/codes';
import { DIAGNOSES, EXPOSURE_KIND, INFLUENZA_CVX, type DiagnosisCodes } from './codes';
import { OUTCOME } from './ground-truth';

/**
 * The default federation plan of the twin scenario: susceptibility to severe respiratory infection
 * (pneumonia within 30 days), learnt by logistic regression over 16 inputs every site derives from its twins.
 *
 * | input | derivation | missing |
 * |---|---|---|
 * | age | completed years at the snapshot, clipped 18–100 | site mean |
 * | sex_female | 1 female, 0 male | site mean |
 * | diabetes, copd, ckd, heart_failure, immunosuppressed, hypertension | active diagnosis (SNOMED CT or ICD-10 sets) | — (0) |
 * | flu_vaccine_365d | influenza vaccine (CVX) in the past 365 days | — (0) |
 * | exposed_14d | household contact with a case in the past 14 days | — (0) |
 * | rhr_mean_7d, rhr_mean_7d.missing | resting heart rate (40443-4) 7-day mean, /min; and "no wearable data" | site mean + indicator |
 * | spo2_slope_14d | SpO2 (59408-5) least-squares trend over 14 days, %/day, clipped ±5 | 0 (no trend) |
 * | spo2_mean_7d | SpO2 7-day mean, % | site mean |
 * | steps_mean_7d | daily steps (55423-8) 7-day mean | site mean |
 * | bmi | latest BMI (39156-5), kg/m2 | site mean |
 *
 * Label: a pneumonia diagnosis (SNOMED 233604007, ICD-10 J12–J18) with onset in the 30 days after the
 * snapshot; twins with pneumonia already active at the snapshot are left out. Risk tiers on the 30-day
 * probability: low < 0.1 ≤ medium < 0.3 ≤ high (the outcome's prevalence is 3–15 % across hospitals).
 * Population view: k = 10, Laplace ε = 1 per report, age bands 0-44, 45-64, 65-79, 80+.
 * Training: FedAvg, per-site z-scores, one local epoch of Adam (lr 0.02, batch 32) per round, 15 rounds.
 */

const codeSets = (dx: DiagnosisCodes) => [
  { system: 'snomed' as const, codes: [...dx.match.snomed] },
  { system: 'icd10' as const, codes: [...dx.match.icd10] },
];
const diagnosis = (name: string, label: string, dx: DiagnosisCodes): FeatureDerivationInput => ({
  name,
  label,
  kind: 'onehot',
  source: { conditionCodes: codeSets(dx) },
});

/** The 16-input feature schema of the twin scenario (see the module comment). */
export const TWIN_SCENARIO_DERIVE: FeatureDerivationInput[] = [
  { name: 'age', kind: 'age', missing: { policy: 'mean' }, clip: [18, 100] },
  { name: 'sex_female', label: 'sex', kind: 'sex', equals: 'female', missing: { policy: 'mean' } },
  diagnosis('diabetes', 'diabetes', DIAGNOSES.diabetes),
  diagnosis('copd', 'COPD', DIAGNOSES.copd),
  diagnosis('ckd', 'chronic kidney disease', DIAGNOSES.ckd),
  diagnosis('heart_failure', 'heart failure', DIAGNOSES.heartFailure),
  diagnosis('immunosuppressed', 'immunosuppression', DIAGNOSES.immunosuppressed),
  diagnosis('hypertension', 'hypertension', DIAGNOSES.hypertension),
  {
    name: 'flu_vaccine_365d',
    label: 'influenza vaccine in the past year',
    kind: 'vaccinated',
    source: { cvx: [...INFLUENZA_CVX] },
    windowDays: 365,
  },
  {
    name: 'exposed_14d',
    label: 'household contact with a case in the past 14 days',
    kind: 'exposed',
    source: { exposureKind: [EXPOSURE_KIND, 'contact'] },
    windowDays: 14,
  },
  {
    name: 'rhr_mean_7d',
    kind: 'mean',
    source: { loinc: [LOINC.restingHeartRate] },
    unit: '/min',
    windowDays: 7,
    missing: { policy: 'indicator' },
    clip: [30, 200],
  },
  {
    name: 'spo2_slope_14d',
    kind: 'slope',
    source: { loinc: [LOINC.spo2] },
    unit: '%',
    windowDays: 14,
    missing: { policy: 'zero' },
    clip: [-5, 5],
  },
  {
    name: 'spo2_mean_7d',
    kind: 'mean',
    source: { loinc: [LOINC.spo2] },
    unit: '%',
    windowDays: 7,
    missing: { policy: 'mean' },
    clip: [50, 100],
  },
  {
    name: 'steps_mean_7d',
    label: 'daily steps 7-day mean',
    kind: 'mean',
    source: { loinc: [LOINC.steps] },
    unit: '{steps}',
    windowDays: 7,
    missing: { policy: 'mean' },
  },
  {
    name: 'bmi',
    label: 'BMI',
    kind: 'latest',
    source: { loinc: [LOINC.bmi] },
    unit: 'kg/m2',
    missing: { policy: 'mean' },
    clip: [10, 80],
  },
];

/** The model inputs of {@link TWIN_SCENARIO_DERIVE}, in order (the indicator column follows its feature). */
export const TWIN_SCENARIO_FEATURES = TWIN_SCENARIO_DERIVE.flatMap((d) =>
  d.missing?.policy === 'indicator' ? [d.name, `${d.name}.missing`] : [d.name],
);

/** The twin scenario's federation plan as a user would write it (see the module comment). */
export const TWIN_SCENARIO_PLAN: PlanInput = {
  name: 'twin-susceptibility',
  model: { kind: 'logistic-regression', inputs: TWIN_SCENARIO_FEATURES.length },
  data: {
    features: TWIN_SCENARIO_FEATURES,
    label: 'pneumonia_30d',
    normalization: 'per-site',
    derive: TWIN_SCENARIO_DERIVE,
    labelRule: {
      kind: 'condition-onset',
      conditionCodes: codeSets(DIAGNOSES.pneumonia),
      horizonDays: OUTCOME.horizonDays,
    },
    tiers: { thresholds: [0.1, 0.3], names: ['low', 'medium', 'high'] },
    population: { k: 10, epsilon: 1, ageBands: [45, 65, 80] },
  },
  strategy: { name: 'fedavg' },
  training: { epochs: 1, batchSize: 32, optimizer: 'adam', lr: 0.02 },
  rounds: 15,
  minSites: 2,
  roundDeadlineSeconds: 300,
  seed: 42,
};

/** The validated twin scenario plan, with optional top-level overrides (e.g. `{ rounds: 5, minSites: 4 }`). */
export function twinScenarioPlan(overrides: Partial<PlanInput> = {}): Plan {
  return PlanSchema.parse({ ...TWIN_SCENARIO_PLAN, ...overrides });
}

/**
 * The twin scenario over time (simulate with `--follow-up-days 30`): the same 16 inputs, a linear Cox model of the
 * days to a pneumonia onset within 30 days of follow-up (censored at the last contact or at 30 days), risk reported
 * at 30 days. After the last round the sites' federated Breslow baseline turns each twin's relative risk into its
 * 30-day risk, so the tiers and the population view are the binary scenario's. Batches of 64 rows, so that most hold
 * an event at the outcome's 3–15 % prevalence.
 */
const TWIN_SCENARIO_COX_PLAN: PlanInput = {
  ...TWIN_SCENARIO_PLAN,
  name: 'twin-susceptibility-over-time',
  model: { kind: 'cox', inputs: TWIN_SCENARIO_FEATURES.length, horizonDays: OUTCOME.horizonDays },
  data: {
    features: TWIN_SCENARIO_FEATURES,
    label: 'pneumonia_onset',
    normalization: 'per-site',
    derive: TWIN_SCENARIO_DERIVE,
    labelRule: {
      kind: 'time-to-event',
      conditionCodes: codeSets(DIAGNOSES.pneumonia),
      horizonDays: OUTCOME.horizonDays,
    },
    tiers: TWIN_SCENARIO_PLAN.data.tiers,
    population: TWIN_SCENARIO_PLAN.data.population,
  },
  training: { epochs: 1, batchSize: 64, optimizer: 'adam', lr: 0.05 },
};

/** The validated Cox plan of the twin scenario over time, with optional top-level overrides. */
export function twinScenarioCoxPlan(overrides: Partial<PlanInput> = {}): Plan {
  return PlanSchema.parse({ ...TWIN_SCENARIO_COX_PLAN, ...overrides });
}
