import fc from 'fast-check';
import { siteSlices } from './site-slices';

describe('siteSlices', () => {
  test('covers every site exactly once, in order, in at most `processes` slices of sizes within one of each other', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 20 }),
        (count, processes, minPerSlice) => {
          const slices = siteSlices(count, processes, minPerSlice);
          expect(slices.length).toBeGreaterThanOrEqual(1);
          expect(slices.length).toBeLessThanOrEqual(processes);
          expect(slices[0]!.from).toBe(0);
          expect(slices.at(-1)!.to).toBe(count);
          slices.forEach((s, i) => i > 0 && expect(s.from).toBe(slices[i - 1]!.to));
          const sizes = slices.map((s) => s.to - s.from);
          expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
          // Every slice has its minimum whenever there are enough sites for even one slice to have it.
          if (count >= minPerSlice) expect(Math.min(...sizes)).toBeGreaterThanOrEqual(minPerSlice);
        },
      ),
    );
  });

  test('examples: 500 sites on 2 processes, 7 sites on 3, fewer slices when each needs 10 sites', () => {
    expect(siteSlices(500, 2)).toEqual([
      { from: 0, to: 250 },
      { from: 250, to: 500 },
    ]);
    expect(siteSlices(7, 3)).toEqual([
      { from: 0, to: 3 },
      { from: 3, to: 5 },
      { from: 5, to: 7 },
    ]);
    expect(siteSlices(25, 4, 10)).toEqual([
      { from: 0, to: 13 },
      { from: 13, to: 25 },
    ]);
    expect(siteSlices(5, 4, 10)).toEqual([{ from: 0, to: 5 }]);
    expect(() => siteSlices(10, 0)).toThrow(/≥ 1/);
  });
});
