import { benchSecureAggregation } from './secure-aggregation';

describe('benchSecureAggregation', () => {
  test('runs every step on a small cohort and reports positive times', async () => {
    const r = await benchSecureAggregation({ sites: 4, size: 1000, iterations: 1 });
    expect(r).toMatchObject({ sites: 4, size: 1000 });
    for (const k of [
      'siteShareMs',
      'siteMaskMs',
      'siteSignaturesMs',
      'serverMs',
      'serverDroppedMs',
      'plainSumMs',
    ] as const)
      expect(r[k]).toBeGreaterThan(0);
  });
});
