import { benchSecureAggregation } from './secure-aggregation';

describe('benchSecureAggregation', () => {
  test('runs every step on a small cohort and reports positive times; the unmasked sum is the plain sum', async () => {
    const r = await benchSecureAggregation({ sites: 4, size: 1000, iterations: 1 });
    expect(r).toMatchObject({ sites: 4, size: 1000, graph: 'complete', degree: 3, dropped: 1 });
    for (const k of [
      'siteShareMs',
      'siteMaskMs',
      'siteSignaturesMs',
      'serverMs',
      'serverDroppedMs',
      'plainSumMs',
    ] as const)
      expect(r[k]).toBeGreaterThan(0);
    expect(r.maxAbsError).toBeLessThan(4 * 2 ** -20);
  });

  test('over the sparse graph, with 10 % dropped after masking, still recovers the plain sum', async () => {
    const r = await benchSecureAggregation({ sites: 40, size: 200, iterations: 1, graph: 'sparse' });
    expect(r).toMatchObject({ sites: 40, graph: 'sparse', dropped: 4 });
    expect(r.degree).toBeLessThan(39);
    expect(r.maxAbsError).toBeLessThan(40 * 2 ** -20);
  });
});
