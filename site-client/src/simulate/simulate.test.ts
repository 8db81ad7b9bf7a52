import { PlanSchema } from '@twinfed/shared';
import { generateCohort } from './cohort';
import { susceptibility, susceptibilityLogit, type SusceptibilityInputs } from './ground-truth';
import { simulateHospital } from './hospital';
import { SIM_NAMED_PATIENTS } from './people';
import { HOSPITAL_PROFILE_NAMES, HOSPITAL_PROFILES } from './profiles';
import { TWIN_SCENARIO_FEATURES, TWIN_SCENARIO_PLAN, twinScenarioPlan } from './plan';

const START = '2024-01-01T00:00:00Z';
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('simulateHospital', () => {
  test('is reproducible from its seed, and patient i does not depend on the cohort size', () => {
    const a = simulateHospital({ patients: 40, profile: 'urban-teaching', seed: 5, start: START, days: 30 });
    const b = simulateHospital({ patients: 40, profile: 'urban-teaching', seed: 5, start: START, days: 30 });
    expect(JSON.stringify(a.bundles)).toBe(JSON.stringify(b.bundles));
    expect(JSON.stringify(a.wearable)).toBe(JSON.stringify(b.wearable));
    const c = simulateHospital({ patients: 40, profile: 'urban-teaching', seed: 6, start: START, days: 30 });
    expect(JSON.stringify(c.bundles)).not.toBe(JSON.stringify(a.bundles));
    const small = simulateHospital({ patients: 10, profile: 'urban-teaching', seed: 5, start: START, days: 30 });
    expect(small.bundles).toEqual(a.bundles.slice(0, 10));
    const other = simulateHospital({ patients: 40, profile: 'rural-elderly', seed: 5, start: START, days: 30 });
    expect(other.cohort.patients[0]!.id).not.toBe(a.cohort.patients[0]!.id);
  });

  test('writes FHIR R4 bundles with hospital identities, consents (some refused or withdrawn) and a dated outcome', () => {
    const h = simulateHospital({ patients: 300, profile: 'oncology-center', seed: 1, start: START, days: 30 });
    expect(h.at).toBe(Date.parse(START) + 30 * 86_400_000);
    const resources = h.bundles.flatMap((b) =>
      (b.entry as { resource: Record<string, unknown> }[]).map((e) => e.resource),
    );
    const types = new Set(resources.map((r) => r.resourceType));
    expect([...types].sort()).toEqual(['Condition', 'Consent', 'Immunization', 'Observation', 'Patient']);
    const text = JSON.stringify(h.bundles);
    for (const named of SIM_NAMED_PATIENTS) {
      expect(text).toContain(named.mrn);
      expect(text).toContain(`"family":"${named.family}","given":["${named.given}"]`);
    }
    const decisions = h.cohort.patients.map((p) => p.consent.map((c) => c.decision).join('>'));
    expect(decisions).toContain('deny');
    expect(decisions).toContain('permit>deny');
    const outcomes = h.cohort.patients.filter((p) => p.truth.outcome);
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes.every((p) => p.truth.outcomeAt! > h.at && p.truth.outcomeAt! <= h.at + 30 * 86_400_000)).toBe(true);
    expect(h.wearable.length).toBe(h.cohort.patients.filter((p) => p.deviceId).length);
    expect(h.wearable[0]!.samples).toHaveLength(30 * 3);
    expect(h.wearable[0]!.samples.every((s) => Date.parse(s.t) <= h.at)).toBe(true);
    expect(new Set(h.wearable.flatMap((w) => w.samples.map((s) => s.id))).size).toBe(
      h.wearable.reduce((n, w) => n + w.samples.length, 0),
    );
  });

  test('writes Fahrenheit temperatures and ICD-10 codes for the rural hospital, SNOMED for the suburban one', () => {
    const rural = JSON.stringify(
      simulateHospital({ patients: 20, profile: 'rural-elderly', seed: 2, start: START, days: 14 }).bundles,
    );
    expect(rural).toContain('"code":"[degF]"');
    expect(rural).toContain('http://hl7.org/fhir/sid/icd-10-cm');
    expect(rural).not.toContain('http://snomed.info/sct');
    const suburban = JSON.stringify(
      simulateHospital({ patients: 20, profile: 'suburban-community', seed: 2, start: START, days: 14 }).bundles,
    );
    expect(suburban).not.toContain('[degF]');
    expect(suburban).not.toContain('icd-10');
  });

  test('refuses bad options', () => {
    expect(() =>
      generateCohort({ patients: 5, profile: 'nowhere' as 'urban-teaching', seed: 1, start: START, days: 30 }),
    ).toThrow(/profile/);
    expect(() =>
      generateCohort({ patients: 5, profile: 'urban-teaching', seed: 1, start: 'yesterday', days: 30 }),
    ).toThrow(/start/);
    expect(() => generateCohort({ patients: 5, profile: 'urban-teaching', seed: 1, start: START, days: 7 })).toThrow(
      /days/,
    );
  });
});

describe('hospital populations', () => {
  const cohorts = Object.fromEntries(
    HOSPITAL_PROFILE_NAMES.map((name) => [
      name,
      generateCohort({ patients: 2000, profile: name, seed: 11, start: START, days: 14 }),
    ]),
  );
  const stat = (name: string, f: (p: (typeof cohorts)[string]['patients'][number]) => number) =>
    mean(cohorts[name]!.patients.map(f));

  test('are not identically distributed: age, comorbidities, vaccination, devices differ', () => {
    expect(
      stat('rural-elderly', (p) => p.truth.inputs.age) - stat('suburban-community', (p) => p.truth.inputs.age),
    ).toBeGreaterThan(20);
    expect(stat('rural-elderly', (p) => Number(p.truth.inputs.heartFailure))).toBeGreaterThan(
      2 * stat('suburban-community', (p) => Number(p.truth.inputs.heartFailure)),
    );
    expect(stat('oncology-center', (p) => Number(p.truth.inputs.immunosuppressed))).toBeGreaterThan(0.35);
    expect(stat('urban-teaching', (p) => Number(p.truth.inputs.immunosuppressed))).toBeLessThan(0.12);
    expect(stat('urban-teaching', (p) => Number(p.deviceId !== null))).toBeGreaterThan(0.55);
    expect(stat('rural-elderly', (p) => Number(p.deviceId !== null))).toBeLessThan(0.3);
    expect(
      stat('oncology-center', (p) => Number(p.truth.inputs.vaccinated)) -
        stat('suburban-community', (p) => Number(p.truth.inputs.vaccinated)),
    ).toBeGreaterThan(0.25);
  });

  test('have outcome prevalences inside their documented ranges', () => {
    for (const name of HOSPITAL_PROFILE_NAMES) {
      const [lo, hi] = HOSPITAL_PROFILES[name].expectedPrevalence;
      const prevalence = stat(name, (p) => Number(p.truth.outcome));
      expect({ name, ok: prevalence >= lo && prevalence <= hi, prevalence }).toMatchObject({ name, ok: true });
    }
  });
});

describe('ground truth', () => {
  const base: SusceptibilityInputs = {
    age: 60,
    diabetes: false,
    copd: false,
    ckd: false,
    heartFailure: false,
    immunosuppressed: false,
    vaccinated: false,
    restingHr7: 70,
    spo2Slope14: 0,
    exposed: false,
  };

  test('follows the documented coefficients', () => {
    expect(susceptibilityLogit(base)).toBeCloseTo(-3.0, 12);
    expect(susceptibilityLogit({ ...base, age: 70 }) - susceptibilityLogit(base)).toBeCloseTo(0.35, 12);
    expect(susceptibilityLogit({ ...base, vaccinated: true }) - susceptibilityLogit(base)).toBeCloseTo(-0.9, 12);
    expect(susceptibilityLogit({ ...base, spo2Slope14: -0.25 }) - susceptibilityLogit(base)).toBeCloseTo(1.0, 12);
    expect(
      susceptibilityLogit({ ...base, restingHr7: 80, exposed: true, immunosuppressed: true }) -
        susceptibilityLogit(base),
    ).toBeCloseTo(0.6 + 1.5 + 1.2, 12);
    expect(susceptibility(base)).toBeCloseTo(1 / (1 + Math.exp(3)), 12);
  });
});

describe('the twin scenario plan', () => {
  test('validates, derives 16 inputs and keeps the heart-disease shape working', () => {
    const plan = twinScenarioPlan({ rounds: 3 });
    expect(plan.rounds).toBe(3);
    expect(plan.data.features).toEqual(TWIN_SCENARIO_FEATURES);
    expect(plan.model.inputs).toBe(16);
    expect(plan.data.features).toContain('rhr_mean_7d.missing');
    expect(
      PlanSchema.safeParse({
        ...TWIN_SCENARIO_PLAN,
        data: { ...TWIN_SCENARIO_PLAN.data, features: TWIN_SCENARIO_FEATURES.slice(1) },
      }).success,
    ).toBe(false);
  });
});
