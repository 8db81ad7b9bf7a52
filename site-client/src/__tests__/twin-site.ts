/** Test support for the twin site: a small twin plan, hand-made twins in a store, and a scoring model. */
import {
  DAY_MS,
  layoutOf,
  serializeWeights,
  sha256Hex,
  type Plan,
  type PlanInput,
  type WeightSet,
} from '@twinfed/shared';
import type { ScoringModel } from '../stream/live-scorer';
import type { TwinStore, TwinWrite } from '../twins/store-types';
import { testPlan } from './fake-coordinator';

/** Snapshot time of the hand-made twins: 2024-01-31T00:00:00Z. */
export const T_AT = Date.UTC(2024, 0, 31);
/** Resting heart rate (LOINC). */
export const RHR = '40443-4';

/** A two-input twin plan: age and the 7-day mean resting heart rate; stored labels; no normalisation; k = 3. */
export function twinTestPlan(over: Partial<PlanInput> = {}): Plan {
  return testPlan({
    model: { kind: 'logistic-regression', inputs: 2 },
    data: {
      features: ['age', 'rhr_mean_7d'],
      derive: [
        { name: 'age', kind: 'age', missing: { policy: 'mean' } },
        {
          name: 'rhr_mean_7d',
          kind: 'mean',
          source: { loinc: [RHR] },
          unit: '/min',
          windowDays: 7,
          missing: { policy: 'mean' },
        },
      ],
      labelRule: { kind: 'stored' },
      normalization: 'none',
      tiers: { thresholds: [0.3, 0.6], names: ['low', 'medium', 'high'] },
      population: { k: 3, ageBands: [45, 65] },
      // hand-made stores hold a few dozen twins; the guardrail's default minimum (20 training rows) is for real sites
      minExamplesPerSite: 5,
    },
    training: { steps: 2, batchSize: 4, lr: 0.01 },
    ...over,
  });
}

/** The hospital id of hand-made patient `i`. */
export const mrn = (i: number): string => `MRN-${String(i).padStart(5, '0')}`;

/**
 * Writes `n` patients: hospital id `MRN-0000i`, alias `Patient/p<i>`, age 34 + i at `T_AT` (unique), consent to
 * training and scoring, label i % 2, and one resting heart rate of 60 + i two days before `T_AT`.
 */
export async function seedTwins(store: TwinStore, n: number): Promise<string[]> {
  const writes: TwinWrite[] = [];
  for (let i = 0; i < n; i++) {
    const hospitalId = mrn(i);
    const patient = { hospitalId };
    writes.push(
      {
        type: 'patient',
        hospitalId,
        aliases: [`Patient/p${i}`],
        birthDate: `${1989 - i}-06-01`,
        sex: i % 2 ? 'male' : 'female',
      },
      {
        type: 'consent',
        patient,
        sourceId: `c:${i}:t`,
        purpose: 'model-training',
        decision: 'permit',
        t: T_AT - 100 * DAY_MS,
      },
      {
        type: 'consent',
        patient,
        sourceId: `c:${i}:s`,
        purpose: 'scoring',
        decision: 'permit',
        t: T_AT - 100 * DAY_MS,
      },
      { type: 'label', patient, sourceId: `l:${i}`, value: i % 2, t: T_AT - DAY_MS },
      {
        type: 'observation',
        patient,
        sourceId: `o:${i}`,
        code: RHR,
        t: T_AT - 2 * DAY_MS,
        value: 60 + i,
        unit: '/min',
        source: 'fhir',
      },
    );
  }
  const outcomes = await store.apply(writes);
  const bad = outcomes.find((o) => o.status === 'rejected');
  if (bad) throw new Error(`seedTwins: ${JSON.stringify(bad)}`);
  return Array.from({ length: n }, (_, i) => store.pidFor(mrn(i)));
}

/** Logistic-regression weights [kernel…, bias]. */
export function lrWeights(plan: Plan, kernel: number[], bias: number): WeightSet {
  return { layout: layoutOf(plan.model), data: Float32Array.from([...kernel, bias]) };
}

/** A model for the live scorer (no signature: the scorer trusts what it is given). */
export function scoringModel(plan: Plan, weights: WeightSet, versionId = 'v1', round = 1): ScoringModel {
  const weightsSha256 = sha256Hex(serializeWeights(weights));
  const meta = { versionId, round, federationId: 'fed-1', weightsSha256 } as unknown as ScoringModel['meta'];
  return { meta, weights, plan, preprocessing: null, at: T_AT };
}
