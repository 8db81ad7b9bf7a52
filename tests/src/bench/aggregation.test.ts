import { benchAggregation } from './aggregation';

describe('benchAggregation', () => {
  test('reports the fold and the read-only passes over the same bytes, and their ratio (no timing asserted)', async () => {
    const r = await benchAggregation({ sites: 3, size: 1000, iterations: 2 });
    expect(r.bytesPerRound).toBe(3 * 1000 * 4);
    for (const x of [r.foldMiBs, r.foldOneByOneMiBs, r.roundMiBs, r.readOneSumMiBs, r.readFourSumsMiBs, r.ratio]) {
      expect(Number.isFinite(x)).toBe(true);
      expect(x).toBeGreaterThan(0);
    }
    expect(r.readOnlyMiBs).toBe(Math.max(r.readOneSumMiBs, r.readFourSumsMiBs));
    expect(r.ratio).toBeCloseTo(r.foldMiBs / r.readOnlyMiBs, 12);
  });
});
