import {
  FeatureDerivationSchema,
  featureNames,
  LabelDerivationSchema,
  RiskTiersSchema,
  tierOf,
  DEFAULT_RISK_TIERS,
} from './features';

describe('risk tiers', () => {
  test('low < 0.2 ≤ medium < 0.5 ≤ high by default', () => {
    expect([0, 0.1999, 0.2, 0.4999, 0.5, 1].map((s) => tierOf(s))).toEqual([
      'low',
      'low',
      'medium',
      'medium',
      'high',
      'high',
    ]);
    expect(tierOf(0.3, { thresholds: [0.3], names: ['a', 'b'] })).toBe('b');
    expect(() => tierOf(NaN, DEFAULT_RISK_TIERS)).toThrow(RangeError);
  });

  test('needs increasing thresholds in (0, 1), one more name than thresholds, distinct names', () => {
    expect(RiskTiersSchema.safeParse({ thresholds: [0.2, 0.5], names: ['low', 'medium', 'high'] }).success).toBe(true);
    expect(RiskTiersSchema.safeParse({ thresholds: [0.5, 0.2], names: ['low', 'medium', 'high'] }).success).toBe(false);
    expect(RiskTiersSchema.safeParse({ thresholds: [0.2, 0.2], names: ['low', 'medium', 'high'] }).success).toBe(false);
    expect(RiskTiersSchema.safeParse({ thresholds: [0.2], names: ['low', 'medium', 'high'] }).success).toBe(false);
    expect(RiskTiersSchema.safeParse({ thresholds: [1], names: ['low', 'high'] }).success).toBe(false);
    expect(RiskTiersSchema.safeParse({ thresholds: [0.5], names: ['low', 'low'] }).success).toBe(false);
  });
});

describe('feature derivations', () => {
  test('fill defaults and check kinds against sources', () => {
    const age = FeatureDerivationSchema.parse({ name: 'age', kind: 'age' });
    expect(age.missing).toEqual({ policy: 'zero' });
    expect(FeatureDerivationSchema.parse({ name: 'female', kind: 'sex' })).toMatchObject({ equals: 'female' });
    expect(FeatureDerivationSchema.safeParse({ name: 'hr', kind: 'mean', source: { loinc: ['8867-4'] } }).success).toBe(
      false,
    ); // no unit
    expect(
      FeatureDerivationSchema.safeParse({ name: 'hr', kind: 'mean', source: { cvx: ['140'] }, unit: '/min' }).success,
    ).toBe(false);
    expect(
      FeatureDerivationSchema.safeParse({ name: 'n', kind: 'count', source: { cvx: ['140'] }, windowDays: 365 })
        .success,
    ).toBe(true);
    expect(FeatureDerivationSchema.safeParse({ name: 'x', kind: 'age', missing: { policy: 'value' } }).success).toBe(
      false,
    );
    expect(FeatureDerivationSchema.safeParse({ name: 'x', kind: 'age', clip: [90, 10] }).success).toBe(false);
    expect(FeatureDerivationSchema.safeParse({ name: '1x', kind: 'age' }).success).toBe(false);
    expect(FeatureDerivationSchema.safeParse({ name: 'x', kind: 'median' }).success).toBe(false);
  });

  test('names indicator columns after their feature', () => {
    const d = [
      FeatureDerivationSchema.parse({
        name: 'rhr',
        kind: 'mean',
        source: { loinc: ['40443-4'] },
        unit: '/min',
        missing: { policy: 'indicator' },
      }),
      FeatureDerivationSchema.parse({ name: 'age', kind: 'age' }),
    ];
    expect(featureNames(d)).toEqual(['rhr', 'rhr.missing', 'age']);
  });

  test('label rules exclude prior outcomes by default', () => {
    expect(
      LabelDerivationSchema.parse({
        kind: 'condition-onset',
        conditionCodes: [{ system: 'snomed', codes: ['233604007'] }],
        horizonDays: 30,
      }),
    ).toMatchObject({ excludePrior: true });
    expect(
      LabelDerivationSchema.safeParse({ kind: 'condition-onset', conditionCodes: [], horizonDays: 30 }).success,
    ).toBe(false);
  });
});
