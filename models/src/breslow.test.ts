import fc from 'fast-check';
import { breslowBaseline, cumulativeHazardAt, riskAtHorizon } from './breslow';

describe('breslowBaseline', () => {
  test('a hand-computed example with a tie, censoring and risk scores', () => {
    // times 1 (event, η=0), 2 (event, η=ln 2), 2 (censored, η=0), 3 (event, η=0)
    const eta = [0, Math.log(2), 0, 0];
    const b = breslowBaseline({ eta, time: [1, 2, 2, 3], event: [1, 1, 0, 1] });
    // risk sets: t=1 all four (1+2+1+1 = 5), t=2 three (2+1+1 = 4), t=3 one (1)
    expect(b.times).toEqual([1, 2, 3]);
    expect(b.cumulativeHazard[0]).toBeCloseTo(1 / 5, 12);
    expect(b.cumulativeHazard[1]).toBeCloseTo(1 / 5 + 1 / 4, 12);
    expect(b.cumulativeHazard[2]).toBeCloseTo(1 / 5 + 1 / 4 + 1, 12);
    expect(cumulativeHazardAt(b, 0.5)).toBe(0);
    expect(cumulativeHazardAt(b, 2.5)).toBeCloseTo(0.45, 12);
    const risk = riskAtHorizon([0, Math.log(2)], b, 2);
    expect(risk[0]).toBeCloseTo(1 - Math.exp(-0.45), 12);
    expect(risk[1]).toBeCloseTo(1 - Math.exp(-0.9), 12);
  });

  test('with every score 0 it is Nelson–Aalen, and shifting every score by c scales it by e^−c', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ time: fc.integer({ min: 1, max: 6 }), event: fc.integer({ min: 0, max: 1 }) }), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.double({ min: -3, max: 3, noNaN: true }),
        (rows, c) => {
          const time = rows.map((r) => r.time);
          const event = rows.map((r) => r.event);
          const b = breslowBaseline({ eta: rows.map(() => 0), time, event });
          for (let t = 1; t <= 6; t++) {
            let na = 0;
            for (let s = 1; s <= t; s++) {
              const d = rows.filter((r) => r.time === s && r.event === 1).length;
              const atRisk = rows.filter((r) => r.time >= s).length;
              if (d > 0) na += d / atRisk;
            }
            expect(cumulativeHazardAt(b, t)).toBeCloseTo(na, 10);
            const shifted = breslowBaseline({ eta: rows.map(() => c), time, event });
            expect(cumulativeHazardAt(shifted, t)).toBeCloseTo(na * Math.exp(-c), 8);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
