import { censoringSurvival, integratedBrierScore } from './integrated-brier';

describe('integrated Brier score (IPCW, Kaplan–Meier censoring weights)', () => {
  // A: t=1 event η=0; B: t=2 censored η=0; C: t=3 event η=ln 2; D: t=4 censored η=0
  const rows = { eta: [0, 0, Math.log(2), 0], time: [1, 2, 3, 4], event: [1, 0, 1, 0] };
  const baseline = { times: [1, 2, 3], cumulativeHazard: [0.2, 0.3, 0.6] };

  test('censoring Kaplan–Meier: G drops at censoring times, G(t−) before them', () => {
    const g = censoringSurvival(rows.time, rows.event);
    expect(g(1)).toBe(1);
    expect(g(2)).toBeCloseTo(2 / 3, 12); // 1 of the 3 at risk at t=2 censored
    expect(g(2, true)).toBe(1);
    expect(g(3, true)).toBeCloseTo(2 / 3, 12);
    expect(g(4)).toBe(0);
  });

  test('a hand-computed example (horizon 3: evaluation times 1, 2, 3)', () => {
    const s = (h: number, r: number) => Math.exp(-h * r);
    // t=1 (G=1): A died (S²/G(1−)=S²), B, C, D alive ((1−S)²/G(1))
    const bs1 = (s(0.2, 1) ** 2 + (1 - s(0.2, 1)) ** 2 + (1 - s(0.2, 2)) ** 2 + (1 - s(0.2, 1)) ** 2) / 4;
    // t=2 (G=2/3): A died, B censored before (weight 0), C and D alive
    const bs2 = (s(0.3, 1) ** 2 + (1 - s(0.3, 2)) ** 2 / (2 / 3) + (1 - s(0.3, 1)) ** 2 / (2 / 3)) / 4;
    // t=3: A died, C died at 3 (G(3−)=2/3), D alive (G(3)=2/3)
    const bs3 = (s(0.6, 1) ** 2 + s(0.6, 2) ** 2 / (2 / 3) + (1 - s(0.6, 1)) ** 2 / (2 / 3)) / 4;
    const want = ((bs1 + bs2) / 2 + (bs2 + bs3) / 2) / 2;
    const ibs = integratedBrierScore({ ...rows, baseline, horizon: 3 });
    expect(ibs).toBeCloseTo(want, 12);
    expect(ibs).toBeCloseTo(0.21858, 4); // worked out by hand: (0.21118 + 0.23873)/2 and (0.23873 + 0.18566)/2, averaged
  });

  test('τ is the earlier of the horizon and the latest time; fewer than two times give NaN', () => {
    const full = integratedBrierScore({ ...rows, baseline, horizon: 3 });
    expect(integratedBrierScore({ ...rows, baseline, horizon: 100 })).toBeCloseTo(full, 12);
    expect(integratedBrierScore({ ...rows, baseline, horizon: 1 })).toBeNaN();
    expect(integratedBrierScore({ eta: [], time: [], event: [], baseline, horizon: 3 })).toBeNaN();
  });

  test('a baseline that knows nothing (S = 0.5 everywhere) scores about 0.25 without censoring', () => {
    const time = [1, 2, 3, 4, 5, 6];
    const flat = { times: [1, 2, 3, 4, 5], cumulativeHazard: Array(5).fill(Math.log(2)) };
    const ibs = integratedBrierScore({
      eta: Array(6).fill(0),
      time,
      event: Array(6).fill(1),
      baseline: flat,
      horizon: 5,
    });
    expect(ibs).toBeCloseTo(0.25, 12);
  });
});
