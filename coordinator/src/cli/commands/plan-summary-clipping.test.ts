import { PlanSchema } from '@twinfed/shared';
import { planSummary } from './plan';

const plan = (extra: Record<string, unknown>) =>
  PlanSchema.parse({
    name: 'p',
    model: { kind: 'logistic-regression', inputs: 1 },
    data: { features: ['a'] },
    strategy: { name: 'fedmedian' },
    training: { steps: 1 },
    rounds: 1,
    ...extra,
  });

describe('plan check summary: update clipping', () => {
  test('shows the clip norm when the plan clips, off otherwise', () => {
    expect(planSummary(plan({ clipping: { maxNorm: 0.05 } }))).toMatch(
      /^update clipping:\s+each site update to L2 ≤ 0\.05$/m,
    );
    expect(planSummary(plan({}))).toMatch(/^update clipping:\s+off$/m);
  });
});
