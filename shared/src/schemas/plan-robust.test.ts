import { PlanSchema, ROBUST_STRATEGIES } from './plan';
import { PLAN, problems } from '../__tests__/plan-fixture';

describe('PlanSchema geomed and centeredclip', () => {
  test('fills geomed’s defaults and takes its own values', () => {
    expect(PlanSchema.parse({ ...PLAN, strategy: { name: 'geomed' } }).strategy).toEqual({
      name: 'geomed',
      maxIterations: 100,
      smoothing: 1e-6,
    });
    expect(
      PlanSchema.parse({ ...PLAN, strategy: { name: 'geomed', maxIterations: 5, smoothing: 1e-3 } }).strategy,
    ).toEqual({ name: 'geomed', maxIterations: 5, smoothing: 1e-3 });
  });

  test('needs centeredclip’s radius and defaults its iterations to 1', () => {
    expect(PlanSchema.parse({ ...PLAN, strategy: { name: 'centeredclip', radius: 0.05 } }).strategy).toEqual({
      name: 'centeredclip',
      radius: 0.05,
      iterations: 1,
    });
    expect(problems({ ...PLAN, strategy: { name: 'centeredclip' } })).toHaveLength(1);
  });

  test('refuses values outside their ranges and unknown keys', () => {
    for (const strategy of [
      { name: 'geomed', maxIterations: 0 },
      { name: 'geomed', maxIterations: 2.5 },
      { name: 'geomed', smoothing: 0 },
      { name: 'geomed', weighted: true },
      { name: 'centeredclip', radius: 0 },
      { name: 'centeredclip', radius: Infinity },
      { name: 'centeredclip', radius: 1, iterations: 0 },
    ]) {
      expect(problems({ ...PLAN, strategy })).toHaveLength(1);
    }
  });

  test('refuses every robust strategy with secure aggregation and with central DP', () => {
    const strategies = { fedmedian: {}, fedtrimmedavg: {}, krum: {}, geomed: {}, centeredclip: { radius: 1 } };
    expect(Object.keys(strategies).sort()).toEqual([...ROBUST_STRATEGIES].sort());
    for (const [name, extra] of Object.entries(strategies)) {
      const strategy = { name, ...extra };
      const minSites = name === 'krum' ? 3 : 2;
      expect(problems({ ...PLAN, minSites, strategy })).toEqual([]);
      expect(problems({ ...PLAN, minSites, strategy, privacy: { secureAggregation: true } })).toEqual([
        `strategy.name: ${name} needs individual updates and cannot run with secure aggregation`,
      ]);
      expect(
        problems({ ...PLAN, minSites, strategy, privacy: { dp: { clip: 1, noiseMultiplier: 1, delta: 1e-5 } } }),
      ).toEqual([
        `privacy.dp: DP needs a mean-delta strategy (fedavg, fedprox, scaffold, fedadam, fedyogi, fedadagrad), not ${name}`,
      ]);
    }
  });
});
