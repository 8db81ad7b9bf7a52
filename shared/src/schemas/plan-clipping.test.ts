import { PlanSchema } from './plan';
import { PLAN, problems } from '../__tests__/plan-fixture';

describe('PlanSchema clipping (update-norm clipping without DP noise)', () => {
  test('accepts clipping.maxNorm on averaging and robust strategies', () => {
    expect(PlanSchema.parse({ ...PLAN, clipping: { maxNorm: 0.5 } }).clipping).toEqual({ maxNorm: 0.5 });
    expect(problems({ ...PLAN, strategy: { name: 'fedmedian' }, clipping: { maxNorm: 2 } })).toEqual([]);
    expect(PlanSchema.parse(PLAN).clipping).toBeUndefined();
  });

  test('refuses a norm that is not positive and finite, and unknown keys', () => {
    expect(problems({ ...PLAN, clipping: { maxNorm: 0 } })).toHaveLength(1);
    expect(problems({ ...PLAN, clipping: { maxNorm: -1 } })).toHaveLength(1);
    expect(problems({ ...PLAN, clipping: { maxNorm: Infinity } })).toHaveLength(1);
    expect(problems({ ...PLAN, clipping: { maxNorm: 1, adaptive: true } })).toHaveLength(1);
  });

  test('refuses clipping with secure aggregation (no individual update to clip) and with central DP (which clips at dp.clip)', () => {
    expect(problems({ ...PLAN, clipping: { maxNorm: 1 }, privacy: { secureAggregation: true } })).toEqual([
      'clipping: clipping needs individual updates, which secure aggregation hides from the coordinator',
    ]);
    expect(
      problems({ ...PLAN, clipping: { maxNorm: 1 }, privacy: { dp: { clip: 1, noiseMultiplier: 1, delta: 1e-5 } } }),
    ).toEqual(['clipping: central DP already clips every update at privacy.dp.clip: remove clipping']);
  });
});
