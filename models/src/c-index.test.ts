import fc from 'fast-check';
import { cIndex } from './c-index';

/** Harrell's C by its definition, over every ordered pair (O(n²)). */
function bruteForce(risk: number[], time: number[], event: number[]): number {
  let comparable = 0;
  let concordant = 0;
  for (let i = 0; i < risk.length; i++) {
    if (event[i] !== 1) continue;
    for (let j = 0; j < risk.length; j++) {
      if (i === j) continue;
      const atRisk = time[i]! < time[j]! || (time[i] === time[j] && event[j] === 0);
      if (!atRisk) continue;
      comparable++;
      if (risk[i]! > risk[j]!) concordant++;
      else if (risk[i] === risk[j]) concordant += 0.5;
    }
  }
  return comparable === 0 ? NaN : concordant / comparable;
}

describe('cIndex', () => {
  test('a hand-computed example: pairs with censoring, tied times and a tied risk', () => {
    // rows: (risk, time, event). Comparable pairs: (a,b) (a,c) (a,d) (b,d) (c,d) where d is censored at 5,
    // c is an event at 5 too (so (c,d) counts: d was censored at c's time) and (b,c) are events at different times.
    const risk = [3, 2, 2, 1];
    const time = [1, 2, 5, 5];
    const event = [1, 1, 1, 0];
    // a>b, a>c, a>d: 3 concordant; b=c tied risk: (b,c) 0.5; b>d, c>d: 2 → 5.5 of 6
    expect(cIndex({ risk, time, event })).toBeCloseTo(5.5 / 6, 12);
    expect(bruteForce(risk, time, event)).toBeCloseTo(5.5 / 6, 12);
  });

  test('is 1 for a perfect ordering, 0 for the reverse and NaN without comparable pairs', () => {
    const time = [1, 2, 3, 4];
    const event = [1, 1, 1, 1];
    expect(cIndex({ risk: [4, 3, 2, 1], time, event })).toBe(1);
    expect(cIndex({ risk: [1, 2, 3, 4], time, event })).toBe(0);
    expect(cIndex({ risk: [1, 2, 3, 4], time, event: [0, 0, 0, 0] })).toBeNaN();
    expect(cIndex({ risk: [1, 2], time: [3, 3], event: [1, 1] })).toBeNaN();
  });

  test('equals the O(n²) definition on random data with ties in time and risk, and censoring', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            risk: fc.integer({ min: -3, max: 3 }).map((r) => r / 2),
            time: fc.integer({ min: 1, max: 8 }),
            event: fc.integer({ min: 0, max: 1 }),
          }),
          { maxLength: 60 },
        ),
        (rows) => {
          const risk = rows.map((r) => r.risk);
          const time = rows.map((r) => r.time);
          const event = rows.map((r) => r.event);
          const fast = cIndex({ risk, time, event });
          const slow = bruteForce(risk, time, event);
          if (Number.isNaN(slow)) expect(fast).toBeNaN();
          else expect(fast).toBeCloseTo(slow, 12);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('refuses arrays of different lengths', () => {
    expect(() => cIndex({ risk: [1], time: [1, 2], event: [1] })).toThrow(RangeError);
  });
});
