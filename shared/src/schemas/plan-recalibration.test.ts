import { PlanSchema } from './plan';
import { PLAN, problems } from '../__tests__/plan-fixture';

describe('PlanSchema recalibration', () => {
  test('is optional (a plan without it keeps its shape) and fills the deadline', () => {
    expect(PlanSchema.parse(PLAN).recalibration).toBeUndefined();
    expect(PlanSchema.parse({ ...PLAN, recalibration: { method: 'temperature' } }).recalibration).toEqual({
      method: 'temperature',
      deadlineSeconds: 600,
    });
  });

  test('refuses unknown methods, extra fields and deadlines out of range', () => {
    expect(problems({ ...PLAN, recalibration: { method: 'isotonic' } })).not.toEqual([]);
    expect(problems({ ...PLAN, recalibration: { method: 'platt', bins: 10 } })).not.toEqual([]);
    expect(problems({ ...PLAN, recalibration: { method: 'platt', deadlineSeconds: 0 } })).not.toEqual([]);
  });

  test('a Cox model cannot be recalibrated: a clear problem at `recalibration`', () => {
    const r = PlanSchema.safeParse({
      ...PLAN,
      model: { kind: 'cox', inputs: 2 },
      recalibration: { method: 'platt' },
    });
    expect(r.success).toBe(false);
    const issue = r.error!.issues.find((i) => i.path.join('.') === 'recalibration');
    expect(issue?.message).toMatch(/binary models only/);
  });

  test('nor with differential privacy: the histogram is not covered by ε', () => {
    const r = PlanSchema.safeParse({
      ...PLAN,
      privacy: { secureAggregation: false, dp: { clip: 1, noiseMultiplier: 2, delta: 1e-5 } },
      recalibration: { method: 'temperature' },
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues.find((i) => i.path.join('.') === 'recalibration')?.message).toMatch(/not covered/);
    expect(
      PlanSchema.safeParse({
        ...PLAN,
        privacy: { secureAggregation: false, dp: { clip: 1, noiseMultiplier: 2, delta: 1e-5 } },
      }).success,
    ).toBe(true);
  });
});
