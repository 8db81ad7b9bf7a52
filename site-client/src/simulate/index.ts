/**
 * The synthetic twin scenario: four simulated hospitals (non-IID populations), FHIR R4 bundles and wearable
 * streams, a documented ground-truth susceptibility, and the default federation plan that learns it.
 */
export { DIAGNOSES, EXPOSURE_KIND, INFLUENZA_CVX, SIM_LOINC, type DiagnosisCodes } from './codes';
export { generateCohort, type GenerateCohortOptions, type SimCohort, type SimCondition, type SimPatient } from './cohort';
export { patientBundle, wearableBatches, type FhirJson, type WearableBatch } from './fhir';
export { GROUND_TRUTH, OUTCOME, susceptibility, susceptibilityLogit, type SusceptibilityInputs } from './ground-truth';
export { simulateHospital, type SimulatedHospital } from './hospital';
export { mrnOf, SIM_NAMED_PATIENTS } from './people';
export { TWIN_SCENARIO_DERIVE, TWIN_SCENARIO_FEATURES, TWIN_SCENARIO_PLAN, twinScenarioPlan } from './plan';
export { HOSPITAL_PROFILE_NAMES, HOSPITAL_PROFILES, type HospitalProfile, type HospitalProfileName, type Prevalence } from './profiles';
export type { Physiology, SimObservation } from './series';
export { cohortTwins, type CohortTwinsOptions } from './twins';
