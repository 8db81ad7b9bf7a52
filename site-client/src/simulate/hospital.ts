import { generateCohort, type GenerateCohortOptions, type SimCohort } from './cohort';
import { patientBundle, wearableBatches, type FhirJson, type WearableBatch } from './fhir';

/** A simulated hospital: its EHR export, its wearable stream, and the ground truth behind both. */
export interface SimulatedHospital {
  /** One FHIR R4 Bundle (type `collection`) per patient. */
  readonly bundles: FhirJson[];
  /** One batch of samples per wearable device. */
  readonly wearable: WearableBatch[];
  /** The patients with their hospital identities and ground truth (never to be sent anywhere). */
  readonly cohort: SimCohort;
  /** The snapshot time (ms since epoch): `start + days`; outcomes fall in the 30 days after it. */
  readonly at: number;
}

/**
 * Simulates a hospital, reproducibly from `seed`: `patients` patients of the `profile` population, observed
 * for `days` days from `start`, with outcomes drawn from the documented ground truth (`ground-truth.ts`).
 */
export function simulateHospital(options: GenerateCohortOptions): SimulatedHospital {
  const cohort = generateCohort(options);
  return {
    bundles: cohort.patients.map((p) => patientBundle(p, cohort.profile)),
    wearable: wearableBatches(cohort),
    cohort,
    at: cohort.at,
  };
}
