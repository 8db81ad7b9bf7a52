import { benchExplain } from './explain';

describe('benchExplain', () => {
  test('measures exact and sampled Shapley values against integrated gradients (no timing asserted)', async () => {
    const rows = await benchExplain({ inputs: [4, 17], background: 2, repeats: 1, backend: 'cpu' });
    expect(rows.map((r) => [r.inputs, r.shapleyMethod])).toEqual([
      [4, 'exact'],
      [17, 'sampling'],
    ]);
    for (const r of rows) {
      expect(r.shapleyMs).toBeGreaterThan(0);
      expect(r.ratio).toBeCloseTo(r.shapleyMs / r.integratedGradientsMs, 10);
    }
  });
});
