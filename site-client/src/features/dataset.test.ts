import { DataSchema, LabelDerivationSchema } from '@twinfed/shared';
import { AT, day, derivation, obs, twin } from './__tests__/builders';
import { hasConsent } from './consent';
import { buildDataset, buildLocalDataset } from './dataset';
import { deriveFeatures } from './derive';
import { fitFillValues, imputeRow } from './impute';
import { deriveLabel } from './label';

const RHR = '40443-4';
const rhr = (policy: 'mean' | 'zero' | 'value' | 'indicator', value?: number) =>
  derivation({
    name: `rhr_${policy}`,
    kind: 'latest',
    source: { loinc: [RHR] },
    unit: '/min',
    missing: value === undefined ? { policy } : { policy, value },
  });

describe('missing-value policies', () => {
  const derivations = [rhr('mean'), rhr('zero'), rhr('value', 65), rhr('indicator'), rhr('indicator', 99)];
  const rows = [twin({ observations: [obs(RHR, -1, 60)] }), twin({ observations: [obs(RHR, -1, 90)] }), twin()].map(
    (t) => deriveFeatures({ twin: t, derivations, at: AT }),
  );

  test('fills by hand: mean of observed rows, zero, value, indicator (mean or its value)', () => {
    const fill = fitFillValues({ rows, derivations });
    // columns: mean, zero, value, indicator(value, flag), indicator 99 (value, flag)
    expect(fill).toEqual([75, 0, 65, 75, 0, 99, 0]);
    expect(Array.from(imputeRow(rows[2]!, fill))).toEqual([75, 0, 65, 75, 1, 99, 1]);
    expect(Array.from(imputeRow(rows[0]!, fill))).toEqual([60, 60, 60, 60, 0, 60, 0]);
  });

  test('takes the mean from the given rows only, or from federated statistics', () => {
    expect(fitFillValues({ rows: [rows[1]!], derivations })[0]).toBe(90);
    expect(fitFillValues({ rows: [rows[2]!], derivations })[0]).toBe(0); // nobody observed it
    const means = [70, 1, 2, 71, 5, 6, 7];
    expect(fitFillValues({ rows, derivations, means })).toEqual([70, 0, 65, 71, 0, 99, 0]);
    expect(() => fitFillValues({ rows, derivations, means: [1] })).toThrow(RangeError);
  });
});

describe('labels and consent', () => {
  const rule = LabelDerivationSchema.parse({
    kind: 'condition-onset',
    conditionCodes: [{ system: 'snomed', codes: ['233604007'] }],
    horizonDays: 30,
  });
  if (rule.kind !== 'condition-onset') throw new Error('unreachable');
  const withOnset = (onset: number | null, abatement: number | null = null) =>
    twin({ conditions: [{ system: 'snomed', code: '233604007', onset, abatement }] });

  test('labels onsets in (at, at + horizon]', () => {
    expect(deriveLabel({ twin: withOnset(day(1)), rule, at: AT })).toBe(1);
    expect(deriveLabel({ twin: withOnset(day(30)), rule, at: AT })).toBe(1);
    expect(deriveLabel({ twin: withOnset(day(30) + 1), rule, at: AT })).toBe(0);
    expect(deriveLabel({ twin: twin(), rule, at: AT })).toBe(0);
  });

  test('leaves out twins already ill at the snapshot unless told otherwise', () => {
    expect(deriveLabel({ twin: withOnset(AT), rule, at: AT })).toBeNull();
    expect(deriveLabel({ twin: withOnset(null), rule, at: AT })).toBeNull();
    expect(deriveLabel({ twin: withOnset(day(-90), day(-60)), rule, at: AT })).toBe(0); // recovered before
    expect(deriveLabel({ twin: withOnset(AT), rule: { ...rule, excludePrior: false }, at: AT })).toBe(0);
  });

  test('uses the stored label with the stored rule', () => {
    expect(deriveLabel({ twin: twin({ label: 1 }), rule: { kind: 'stored' }, at: AT })).toBe(1);
    expect(deriveLabel({ twin: twin({ label: null }), rule: { kind: 'stored' }, at: AT })).toBeNull();
  });

  test('the latest consent decision wins, whenever it was made', () => {
    const t = (events: [string, 'permit' | 'deny', number][]) =>
      twin({
        consent: events.map(([purpose, decision, t]) => ({ purpose: purpose as 'model-training', decision, t })),
      });
    expect(hasConsent(t([['model-training', 'permit', 1]]), 'model-training')).toBe(true);
    expect(
      hasConsent(
        t([
          ['model-training', 'permit', 1],
          ['model-training', 'deny', 5],
        ]),
        'model-training',
      ),
    ).toBe(false);
    expect(
      hasConsent(
        t([
          ['model-training', 'deny', 5],
          ['model-training', 'permit', 1],
        ]),
        'model-training',
      ),
    ).toBe(false);
    expect(hasConsent(t([['scoring', 'permit', 1]]), 'model-training')).toBe(false);
    expect(hasConsent(t([]), 'model-training')).toBe(false);
  });
});

describe('buildDataset', () => {
  const derive = [rhr('mean'), derivation({ name: 'age', kind: 'age' })];
  const data = DataSchema.parse({
    features: ['rhr_mean', 'age'],
    derive,
    labelRule: { kind: 'stored' },
  });
  const plan = { data };
  const twins = [
    twin({ pid: 'a', label: 1, observations: [obs(RHR, -1, 80)] }),
    twin({ pid: 'b', label: 0, observations: [obs(RHR, -1, 60)], birthDate: '1990-06-01' }),
    twin({ pid: 'c', label: 0 }),
    twin({ pid: 'd', label: null }),
    twin({ pid: 'e', label: 1, consent: [{ purpose: 'model-training', decision: 'deny', t: day(-1) }] }),
  ];

  test('keeps consenting, labelled twins in order and fills from the train rows only', () => {
    const ds = buildDataset({ twins, plan, at: AT, trainPids: new Set(['b', 'c']) });
    expect(ds.pids).toEqual(['a', 'b', 'c']);
    expect(ds.excluded).toEqual({ consent: 1, unlabelled: 1 });
    expect([ds.n, ds.d]).toEqual([3, 2]);
    expect(Array.from(ds.x)).toEqual([80, 73, 60, 33, 60, 73]);
    expect(Array.from(ds.y)).toEqual([1, 0, 0]);
    expect(Array.from(ds.missing)).toEqual([0, 0, 0, 0, 1, 0]);
    expect(buildDataset({ twins, plan, at: AT }).x[4]).toBe(70);
  });

  test('refuses a plan without derivations', () => {
    expect(() => buildDataset({ twins, plan: { data: DataSchema.parse({ features: ['x'] }) }, at: AT })).toThrow(
      /data.derive/,
    );
  });

  test('splits by twin, stratified and reproducibly, filling from train statistics', () => {
    const many = Array.from({ length: 40 }, (_, i) =>
      twin({
        pid: `p${String(i).padStart(2, '0')}`,
        label: i % 4 === 0 ? 1 : 0,
        observations: i % 3 === 0 ? [] : [obs(RHR, -1, 50 + i)],
      }),
    );
    const a = buildLocalDataset({ twins: many, plan, at: AT, testFraction: 0.25, seed: 7 });
    const b = buildLocalDataset({ twins: many, plan, at: AT, testFraction: 0.25, seed: 7 });
    expect(a.testPids).toEqual(b.testPids);
    expect(a.testPids).toHaveLength(11); // round(2.5) positives + round(7.5) negatives
    expect(a.trainPids.filter((p) => a.testPids.includes(p))).toEqual([]);
    expect(Array.from(a.test.y).filter((y) => y === 1)).toHaveLength(3);
    const trainObserved = a.trainPids.map((p) => Number(p.slice(1))).filter((i) => i % 3 !== 0);
    expect(a.fill[0]).toBeCloseTo(trainObserved.reduce((s, i) => s + 50 + i, 0) / trainObserved.length, 5);
    expect(buildLocalDataset({ twins: many, plan, at: AT, testFraction: 0.25, seed: 8 }).testPids).not.toEqual(
      a.testPids,
    );
  });
});

describe('DataSchema with derivations', () => {
  test('requires features to list the derived inputs in order, indicators included', () => {
    const derive = [rhr('indicator'), derivation({ name: 'age', kind: 'age' })];
    expect(DataSchema.safeParse({ features: ['rhr_indicator', 'rhr_indicator.missing', 'age'], derive }).success).toBe(
      true,
    );
    expect(DataSchema.safeParse({ features: ['rhr_indicator', 'age'], derive }).success).toBe(false);
    expect(DataSchema.safeParse({ features: ['age', 'rhr_indicator', 'rhr_indicator.missing'], derive }).success).toBe(
      false,
    );
    expect(DataSchema.safeParse({ features: ['age', 'age'], derive: [derive[1], derive[1]] }).success).toBe(false);
    expect(DataSchema.safeParse({ features: ['x'], labelRule: { kind: 'stored' } }).success).toBe(false);
    expect(DataSchema.safeParse({ features: ['x'], label: 'target', normalization: 'per-site' }).success).toBe(true);
  });
});
