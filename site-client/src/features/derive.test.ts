import { DAY_MS } from '@twinfed/shared';
import { AT, day, derivation, obs, twin } from './__tests__/builders';
import { ageAt } from './age';
import { deriveFeatures, leastSquaresSlopePerDay } from './derive';

const RHR = '40443-4';
const one = (
  t: ReturnType<typeof twin>,
  input: Parameters<typeof derivation>[0],
): { value: number; missing: boolean } => {
  const row = deriveFeatures({ twin: t, derivations: [derivation(input)], at: AT });
  return { value: row.values[0]!, missing: row.missing[0]! };
};

describe('deriveFeatures: observation aggregates', () => {
  const t = twin({
    observations: [
      obs(RHR, -10, 60),
      obs(RHR, -7, 200), // exactly 7 days back: outside a 7-day window
      obs(RHR, -6.5, 70),
      obs(RHR, -3, 80),
      obs(RHR, 0, 90), // exactly at the snapshot: inside
      obs(RHR, 0.5, 300), // after the snapshot: never seen
      obs(RHR, -1, 1000, 'deg'), // another unit: ignored
      obs('8867-4', -1, 150), // another code
    ],
  });
  const src = { source: { loinc: [RHR] }, unit: '/min' };

  test('latest, mean, min, max by hand', () => {
    expect(one(t, { name: 'f', kind: 'latest', ...src }).value).toBe(90);
    expect(one(t, { name: 'f', kind: 'mean', windowDays: 7, ...src }).value).toBeCloseTo((70 + 80 + 90) / 3, 12);
    expect(one(t, { name: 'f', kind: 'mean', ...src }).value).toBeCloseTo((60 + 200 + 70 + 80 + 90) / 5, 12);
    expect(one(t, { name: 'f', kind: 'min', windowDays: 7, ...src }).value).toBe(70);
    expect(one(t, { name: 'f', kind: 'max', windowDays: 7, ...src }).value).toBe(90);
    expect(one(t, { name: 'f', kind: 'max', windowDays: 8, ...src }).value).toBe(200);
  });

  test('takes the window as (at − days, at]: 1 ms inside the start counts', () => {
    const edge = twin({
      observations: [
        { code: RHR, t: AT - 7 * DAY_MS + 1, value: 50, unit: '/min', source: 'fhir' },
        { code: RHR, t: AT - 7 * DAY_MS, value: 10, unit: '/min', source: 'fhir' },
      ],
    });
    expect(one(edge, { name: 'f', kind: 'mean', windowDays: 7, ...src }).value).toBe(50);
  });

  test('is missing (NaN) when no observation falls in the window', () => {
    const r = one(t, { name: 'f', kind: 'mean', windowDays: 1, source: { loinc: ['59408-5'] }, unit: '%' });
    expect(r.missing).toBe(true);
    expect(r.value).toBeNaN();
  });

  test('slope is the least-squares change per day', () => {
    const s = twin({
      observations: [
        obs('59408-5', -3, 95, '%'),
        obs('59408-5', -2, 94, '%'),
        obs('59408-5', -1, 92, '%'),
        obs('59408-5', 0, 91, '%'),
      ],
    });
    // t̄ = −1.5, v̄ = 93: Σ(t−t̄)(v−v̄) = −7, Σ(t−t̄)² = 5.
    expect(
      one(s, { name: 's', kind: 'slope', windowDays: 14, source: { loinc: ['59408-5'] }, unit: '%' }).value,
    ).toBeCloseTo(-1.4, 12);
    expect(one(s, { name: 's', kind: 'slope', windowDays: 1, source: { loinc: ['59408-5'] }, unit: '%' }).missing).toBe(
      true,
    );
    expect(
      leastSquaresSlopePerDay([
        { t: 0, value: 1 },
        { t: 0, value: 2 },
      ]),
    ).toBeNull();
    expect(
      leastSquaresSlopePerDay([
        { t: 0, value: 1 },
        { t: DAY_MS / 2, value: 2 },
      ]),
    ).toBeCloseTo(2, 12);
  });

  test('clips raw values', () => {
    expect(one(t, { name: 'f', kind: 'latest', clip: [30, 85], ...src }).value).toBe(85);
  });
});

describe('deriveFeatures: events, codes, demographics', () => {
  const t = twin({
    conditions: [
      { system: 'icd10', code: 'E11.9', onset: day(-400), abatement: null },
      { system: 'snomed', code: '13645005', onset: day(-50), abatement: day(-10) },
      { system: 'snomed', code: '84114007', onset: null, abatement: null },
      { system: 'snomed', code: '709044004', onset: day(3), abatement: null },
    ],
    immunizations: [
      { cvx: '158', t: day(-365) },
      { cvx: '158', t: day(-364) },
      { cvx: '208', t: day(-20) },
    ],
    exposures: [
      { kind: 'household-contact', t: day(-14) },
      { kind: 'household-contact', t: day(-13.9) },
    ],
    observations: [obs(RHR, -1, 70), obs(RHR, -2, 71, 'other'), obs(RHR, -9, 72)],
  });

  test('onehot: active conditions of the code set (prefix, dots, abatement, future onset)', () => {
    const set = (system: 'icd10' | 'snomed', codes: string[]) => ({
      name: 'c',
      kind: 'onehot' as const,
      source: { conditionCodes: [{ system, codes }] },
    });
    expect(one(t, set('icd10', ['E11*'])).value).toBe(1);
    expect(one(t, set('icd10', ['e119'])).value).toBe(1);
    expect(one(t, set('icd10', ['E10*'])).value).toBe(0);
    expect(one(t, set('snomed', ['13645005'])).value).toBe(0); // abated before the snapshot
    expect(one(t, set('snomed', ['84114007'])).value).toBe(1); // unknown onset, still active
    expect(one(t, set('snomed', ['709044004'])).value).toBe(0); // onset after the snapshot
    expect(one(t, { ...set('icd10', ['E11*']), windowDays: 365 }).value).toBe(0); // onset outside the window
    expect(one(t, set('snomed', ['E11*'])).value).toBe(0); // another system
  });

  test('count: observations (any unit), conditions, immunizations, exposures in the window', () => {
    expect(one(t, { name: 'n', kind: 'count', source: { loinc: [RHR] }, windowDays: 7 }).value).toBe(2);
    expect(
      one(t, {
        name: 'n',
        kind: 'count',
        source: { conditionCodes: [{ system: 'snomed', codes: ['13645005', '709044004'] }] },
      }).value,
    ).toBe(1);
    expect(one(t, { name: 'n', kind: 'count', source: { cvx: ['158'] }, windowDays: 365 }).value).toBe(1);
    expect(one(t, { name: 'n', kind: 'count', source: { exposureKind: ['household-contact'] } }).value).toBe(2);
  });

  test('vaccinated and exposed honour their window boundaries', () => {
    expect(one(t, { name: 'v', kind: 'vaccinated', source: { cvx: ['158'] }, windowDays: 365 }).value).toBe(1); // day −364 inside, −365 not
    expect(one(t, { name: 'v', kind: 'vaccinated', source: { cvx: ['158'] }, windowDays: 364 }).value).toBe(0);
    expect(one(t, { name: 'v', kind: 'vaccinated', source: { cvx: ['141'] } }).value).toBe(0);
    expect(
      one(t, { name: 'e', kind: 'exposed', source: { exposureKind: ['household-contact'] }, windowDays: 14 }).value,
    ).toBe(1);
    expect(
      one(t, { name: 'e', kind: 'exposed', source: { exposureKind: ['household-contact'] }, windowDays: 13 }).value,
    ).toBe(0);
  });

  test('age in completed years, sex as a 0/1 with unknown missing', () => {
    expect(one(t, { name: 'a', kind: 'age' }).value).toBe(73); // birthday 1 Feb, snapshot 31 Jan
    expect(one(twin({ birthDate: '1950-01-31' }), { name: 'a', kind: 'age' }).value).toBe(74);
    expect(one(twin({ birthDate: null }), { name: 'a', kind: 'age' }).missing).toBe(true);
    expect(one(t, { name: 's', kind: 'sex' }).value).toBe(1);
    expect(one(twin({ sex: 'male' }), { name: 's', kind: 'sex' }).value).toBe(0);
    expect(one(twin({ sex: 'male' }), { name: 's', kind: 'sex', equals: 'male' }).value).toBe(1);
    expect(one(twin({ sex: 'unknown' }), { name: 's', kind: 'sex' }).missing).toBe(true);
  });

  test('an indicator derivation adds a 0/1 column after its value', () => {
    const derivations = [
      derivation({
        name: 'rhr',
        kind: 'mean',
        source: { loinc: [RHR] },
        unit: '/min',
        windowDays: 7,
        missing: { policy: 'indicator' },
      }),
      derivation({ name: 'age', kind: 'age' }),
    ];
    const present = deriveFeatures({ twin: t, derivations, at: AT });
    expect(Array.from(present.values)).toEqual([70, 0, 73]);
    expect(present.missing).toEqual([false, false, false]);
    const absent = deriveFeatures({ twin: twin(), derivations, at: AT });
    expect(absent.values[0]).toBeNaN();
    expect(Array.from(absent.values.slice(1))).toEqual([1, 73]);
    expect(absent.missing).toEqual([true, false, false]);
  });
});

describe('ageAt', () => {
  test('handles partial and bad dates', () => {
    const at = Date.UTC(2024, 6, 1);
    expect(ageAt('2000', at)).toBe(24); // counts from 1 July
    expect(ageAt('2000', at - 1)).toBe(23);
    expect(ageAt('2000-07', Date.UTC(2024, 6, 15))).toBe(24);
    expect(ageAt('2000-07', Date.UTC(2024, 6, 14))).toBe(23);
    expect(ageAt('2000-02-30', at)).toBeNull();
    expect(ageAt('2030-01-01', at)).toBeNull();
    expect(ageAt('01/02/2000', at)).toBeNull();
    expect(ageAt('2000-02-29', Date.UTC(2024, 1, 28))).toBe(23);
    expect(ageAt('2000-02-29', Date.UTC(2024, 1, 29))).toBe(24);
  });
});
