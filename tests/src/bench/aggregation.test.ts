import { benchAggregation } from './aggregation';

describe('benchAggregation', () => {
  test('reports both throughputs over the same bytes and their ratio (no timing asserted)', () => {
    const r = benchAggregation({ sites: 3, size: 1000, iterations: 2 });
    expect(r.bytesPerRound).toBe(3 * 1000 * 4);
    for (const x of [r.fedavgMiBs, r.referenceMiBs, r.ratio]) {
      expect(Number.isFinite(x)).toBe(true);
      expect(x).toBeGreaterThan(0);
    }
    expect(r.ratio).toBeCloseTo(r.fedavgMiBs / r.referenceMiBs, 12);
  });
});
