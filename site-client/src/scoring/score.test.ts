import { DataSchema, layoutOf, ModelSpecSchema, initialWeights, type WeightSet } from '@twinfed/shared';
import { AT, day, obs, twin } from '../features/__tests__/builders';
import { describeContribution, formatContribution, formatNumber } from './describe';
import { scoreTwins } from './score';

const derive = [
  {
    name: 'rhr_mean_7d',
    kind: 'mean',
    source: { loinc: ['40443-4'] },
    unit: '/min',
    windowDays: 7,
    missing: { policy: 'mean' },
  },
  { name: 'diabetes', kind: 'onehot', source: { conditionCodes: [{ system: 'icd10', codes: ['E11*'] }] } },
  { name: 'age', kind: 'age', missing: { policy: 'mean' } },
] as const;
const planWith = (normalization: 'none' | 'per-site', tiers?: { thresholds: number[]; names: string[] }) => ({
  model: ModelSpecSchema.parse({ kind: 'logistic-regression', inputs: 3 }),
  data: DataSchema.parse({
    features: ['rhr_mean_7d', 'diabetes', 'age'],
    derive,
    normalization,
    ...(tiers ? { tiers } : {}),
  }),
});
const lr = (kernel: number[], bias: number): WeightSet => {
  const layout = layoutOf({ kind: 'logistic-regression', inputs: kernel.length });
  return { layout, data: Float32Array.from([...kernel, bias]) };
};
const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

const sick = twin({
  pid: 'sick',
  observations: [obs('40443-4', -1, 95), obs('40443-4', -2, 97)],
  conditions: [{ system: 'icd10', code: 'E11.9', onset: day(-900), abatement: null }],
});
const well = twin({ pid: 'well', birthDate: '1990-01-01', sex: 'male', observations: [obs('40443-4', -1, 62)] });
const unknown = twin({ pid: 'unknown', birthDate: '1960-05-05' });

describe('scoreTwins with a logistic regression', () => {
  const weights = lr([0.05, 0.7, 0.03], -8);

  test('scores by hand with raw inputs and explains in clinical words', async () => {
    const [s] = await scoreTwins({ twins: [sick], plan: planWith('none'), weights, versionId: 'v7', at: AT, top: 3 });
    const z = 0.05 * 96 + 0.7 + 0.03 * 73 - 8;
    expect(s!.score).toBeCloseTo(sigmoid(z), 5);
    expect(s!.tier).toBe('medium'); // sigmoid(−0.31) ≈ 0.42
    expect(s!.versionId).toBe('v7');
    expect(s!.contributions.map((c) => c.text)).toEqual([
      'resting heart rate 7-day mean 96 bpm, +4.8',
      'age 73 years, +2.2',
      'diabetes: yes, +0.7',
    ]);
    expect(s!.contributions[0]).toMatchObject({ feature: 'rhr_mean_7d', value: 96 });
  });

  test('contributions plus the bias logit sum to the logit of the score (per-site z-scores)', async () => {
    const plan = planWith('per-site');
    const scored = await scoreTwins({
      twins: [sick, well, unknown],
      plan,
      weights: lr([0.9, 0.4, 1.3], -1.1),
      versionId: 'v1',
      at: AT,
      top: Infinity,
    });
    expect(scored).toHaveLength(3);
    for (const s of scored) {
      expect(s.contributions).toHaveLength(3);
      const sum = s.contributions.reduce((acc, c) => acc + c.contribution, 0) + -1.1;
      expect(sum).toBeCloseTo(logit(s.score), 4);
    }
    // Raw values are reported, not z-scores; the missing one is said to be assumed.
    const u = scored[2]!;
    expect(u.contributions.find((c) => c.feature === 'rhr_mean_7d')).toMatchObject({ value: null });
    expect(u.contributions.find((c) => c.feature === 'rhr_mean_7d')!.text).toMatch(
      /^resting heart rate 7-day mean not recorded \(79 bpm assumed\), \+0\.00$/,
    ); // (96 + 62) / 2, which z-scores to 0
    expect(scored[1]!.contributions.find((c) => c.feature === 'age')!.value).toBe(34);
  });

  test('keeps the top contributions by magnitude, uses the plan’s tiers and notes the version', async () => {
    const plan = planWith('none', { thresholds: [0.1, 0.3, 0.9], names: ['minimal', 'low', 'elevated', 'very-high'] });
    const scored = await scoreTwins({ twins: [sick, well], plan, weights, versionId: 'v9', at: AT, top: 1 });
    expect(scored.map((s) => s.contributions.length)).toEqual([1, 1]);
    expect(scored[0]!.tier).toBe('elevated');
    expect(scored[1]!.tier).toBe('minimal'); // 0.05·62 + 0.03·34 − 8 → ≈ 0.02
    expect(scored.every((s) => s.versionId === 'v9' && s.at === AT)).toBe(true);
  });

  test('skips twins who refused scoring and refuses a mismatched model', async () => {
    const refused = twin({
      pid: 'no',
      consent: [
        { purpose: 'scoring', decision: 'permit', t: day(-9) },
        { purpose: 'scoring', decision: 'deny', t: day(-1) },
      ],
    });
    const scored = await scoreTwins({
      twins: [refused, well],
      plan: planWith('none'),
      weights,
      versionId: 'v',
      at: AT,
    });
    expect(scored.map((s) => s.pid)).toEqual(['well']);
    const bad = { ...planWith('none'), model: ModelSpecSchema.parse({ kind: 'logistic-regression', inputs: 2 }) };
    await expect(
      scoreTwins({ twins: [well], plan: bad, weights: lr([1, 1], 0), versionId: 'v', at: AT }),
    ).rejects.toThrow(/3/);
  });
});

describe('scoreTwins with an MLP', () => {
  const model = ModelSpecSchema.parse({ kind: 'mlp', inputs: 3, hidden: [4] });
  const plan = { ...planWith('per-site'), model };
  const weights = initialWeights(model, 3);
  const twins = [sick, well, unknown];

  test('explains with exact Shapley values against the scored twins: they add up to logit(score) − mean logit', async () => {
    const scored = await scoreTwins({ twins, plan, weights, versionId: 'm1', at: AT, top: Infinity });
    // Three twins: the background sample is all of them, so the base is their mean log-odds.
    const base = scored.reduce((acc, s) => acc + logit(s.score), 0) / scored.length;
    for (const s of scored) {
      expect(s.explainedBy).toBe('shapley');
      expect(s.contributions).toHaveLength(3);
      expect(s.contributions.reduce((acc, c) => acc + c.contribution, 0) + base).toBeCloseTo(logit(s.score), 4);
    }
    // Same twins in another order: the same seeded background, the same explanations.
    const again = await scoreTwins({
      twins: [...twins].reverse(),
      plan,
      weights,
      versionId: 'm1',
      at: AT,
      top: Infinity,
    });
    expect(again.reverse().map((s) => s.contributions)).toEqual(scored.map((s) => s.contributions));
  });

  test('explains only the highest scores when asked, with the method asked for', async () => {
    const scored = await scoreTwins({ twins, plan, weights, versionId: 'm1', at: AT, top: 2, explainHighest: 1 });
    const highest = Math.max(...scored.map((s) => s.score));
    expect(scored.map((s) => s.contributions.length)).toEqual(scored.map((s) => (s.score === highest ? 2 : 0)));
    const ig = await scoreTwins({ twins, plan, weights, versionId: 'm1', at: AT, explain: 'integrated-gradients' });
    expect(ig.every((s) => s.explainedBy === 'integrated-gradients' && s.contributions.length === 3)).toBe(true);
    await expect(
      scoreTwins({ twins, plan, weights, versionId: 'm1', at: AT, explain: 'linear' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  test('a given background sets the base: one all-zeros row (the training mean) gives logit(score) − logit(f(0))', async () => {
    // z-scores around fill values, so a twin without data is the all-zeros input
    const pre = { fill: [79, 0, 50], standardizer: { mean: [79, 0, 50], std: [20, 1, 20] } };
    const scored = await scoreTwins({
      twins: [sick],
      plan,
      weights,
      versionId: 'm1',
      at: AT,
      top: Infinity,
      background: new Float32Array(3),
      preprocessing: pre,
    });
    const zero = await scoreTwins({
      twins: [twin({ pid: 'z', birthDate: null })],
      plan,
      weights,
      versionId: 'm1',
      at: AT,
      top: 0,
      preprocessing: pre,
    });
    const sum = scored[0]!.contributions.reduce((acc, c) => acc + c.contribution, 0);
    expect(sum).toBeCloseTo(logit(scored[0]!.score) - logit(zero[0]!.score), 4);
  });
});

describe('describe', () => {
  test('formats numbers and signed contributions', () => {
    expect([formatNumber(96), formatNumber(96.43), formatNumber(0.123), formatNumber(123.6)]).toEqual([
      '96',
      '96.4',
      '0.12',
      '124',
    ]);
    expect([
      formatContribution(0.8),
      formatContribution(-1.25),
      formatContribution(0.012),
      formatContribution(-0.0001),
    ]).toEqual(['+0.8', '-1.3', '+0.01', '+0.00']);
  });

  test('describes indicators, slopes and sex', () => {
    const d = DataSchema.parse({
      features: ['spo2', 'spo2.missing', 'female'],
      derive: [
        {
          name: 'spo2',
          kind: 'slope',
          source: { loinc: ['59408-5'] },
          unit: '%',
          windowDays: 14,
          missing: { policy: 'indicator' },
        },
        { name: 'female', kind: 'sex' },
      ],
    }).derive!;
    const [slope, flag, sex] = [
      { derivation: d[0]!, name: 'spo2', role: 'value' as const },
      { derivation: d[0]!, name: 'spo2.missing', role: 'indicator' as const },
      { derivation: d[1]!, name: 'female', role: 'value' as const },
    ];
    expect(describeContribution({ column: slope, raw: -0.25, filled: 0, contribution: 0.4 })).toBe(
      'SpO2 14-day trend -0.25 %/day, +0.4',
    );
    expect(describeContribution({ column: flag, raw: 1, filled: 0, contribution: -0.2 })).toBe(
      'SpO2 14-day trend not recorded, -0.2',
    );
    expect(describeContribution({ column: sex, raw: 0, filled: 0, contribution: -0.3 })).toBe('sex: not female, -0.3');
  });
});

describe('scoreTwins with a Cox model and its federated baseline', () => {
  const plan = {
    model: ModelSpecSchema.parse({ kind: 'cox', inputs: 3, horizonDays: 90 }),
    data: DataSchema.parse({ features: ['rhr_mean_7d', 'diabetes', 'age'], derive, normalization: 'none' }),
  };
  const weights = lr([0.01, 0.5, 0.01], 0);
  const baseline = { times: [30, 60, 90, 120], cumulativeHazard: [0.001, 0.002, 0.004, 0.01] };

  test('the score is the risk within the horizon, 1 − exp(−H₀(90) · e^η), explained over η', async () => {
    const [s] = await scoreTwins({ twins: [sick], plan, weights, baseline, versionId: 'v3.baseline', at: AT, top: 3 });
    const eta = 0.01 * 96 + 0.5 + 0.01 * 73;
    expect(s!.score).toBeCloseTo(1 - Math.exp(-0.004 * Math.exp(eta)), 6);
    expect(s!.tier).toBe('low');
    expect(s!.explainedBy).toBe('linear');
    expect(s!.contributions.reduce((acc, c) => acc + c.contribution, 0)).toBeCloseTo(eta, 4);
  });

  test('a Cox version without a baseline is refused with a clear message', async () => {
    await expect(scoreTwins({ twins: [sick], plan, weights, versionId: 'v3', at: AT })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('no federated baseline hazard'),
    });
  });
});
