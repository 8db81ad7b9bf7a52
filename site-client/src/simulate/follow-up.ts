import { DAY_MS, type SeededRandom } from '@twinfed/shared';
import { LOINC } from '../ingest/fhir/codes';
import type { SimPatient } from './cohort';

/** The share of patients lost to follow-up, at a uniform time in it (moved away, changed provider). */
export const LOST_TO_FOLLOW_UP = 0.25;

/**
 * The patient followed up for `days` after the snapshot: a clinic heart rate at each weekly contact and at the
 * last one, which is the end of follow-up, or earlier for the {@link LOST_TO_FOLLOW_UP} share lost at a uniform
 * time. An outcome after a patient was lost is never recorded (the hospital does not learn of it), so a
 * time-to-event label sees it censored at the last contact. Draws from its own `rng`, so the patient's
 * records before the snapshot are the same with and without follow-up.
 */
export function withFollowUp(
  patient: SimPatient,
  options: { rng: SeededRandom; at: number; days: number },
): SimPatient {
  const { rng, at, days } = options;
  const lost = rng.next() < LOST_TO_FOLLOW_UP;
  const end = at + (lost ? rng.uniform(1, days) : days) * DAY_MS;
  const contacts: number[] = [];
  for (let t = at + 7 * DAY_MS; t < end; t += 7 * DAY_MS) contacts.push(t);
  contacts.push(end);
  const hr = patient.truth.inputs.restingHr7;
  const observations = contacts.map((t, k) => ({
    id: `${patient.id.slice(0, 8)}-f${k}-hr`,
    code: LOINC.heartRate,
    t: Math.round(t),
    value: Math.round(hr + 10 + 6 * rng.normal()),
    unit: '/min',
    channel: 'clinic' as const,
  }));
  const conditions = patient.conditions.filter((c) => c.key !== 'pneumonia' || c.onset <= end);
  return {
    ...patient,
    conditions,
    observations: [...patient.observations, ...observations],
    truth: { ...patient.truth, followedUntil: Math.round(end) },
  };
}
