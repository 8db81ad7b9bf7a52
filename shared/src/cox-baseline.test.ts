import { baselineEvents, baselineFromSums, baselineGrid, baselineVector } from './cox-baseline';

describe('cox baseline vectors', () => {
  test('a grid of whole days up to the horizon', () => {
    expect(baselineGrid({ horizonDays: 4 })).toEqual([1, 2, 3, 4]);
    expect(baselineGrid({ horizonDays: 2.5 })).toEqual([2.5 / 3, (2 * 2.5) / 3, 2.5]);
  });

  test('a hand-computed vector: events per bin and Σ e^η at risk at each bin start', () => {
    const grid = [1, 2, 3];
    // times 1 (event, e^η 1), 2 (event, 2), 2 (censored, 1), 5 (event beyond the grid, 4)
    const v = baselineVector({ eta: [0, Math.log(2), 0, Math.log(4)], time: [1, 2, 2, 5], event: [1, 1, 0, 1] }, grid);
    expect(Array.from(v.slice(0, 3))).toEqual([1, 1, 0]);
    [8, 7, 4].forEach((r, k) => expect(v[3 + k]).toBeCloseTo(r, 12));
    const b = baselineFromSums(v, grid);
    expect(b.times).toEqual(grid);
    expect(b.cumulativeHazard[0]).toBeCloseTo(1 / 8, 12);
    expect(b.cumulativeHazard[1]).toBeCloseTo(1 / 8 + 1 / 7, 12);
    expect(b.cumulativeHazard[2]).toBeCloseTo(1 / 8 + 1 / 7, 12);
    expect(baselineEvents(v, grid)).toBe(2);
  });

  test('refuses a sum of the wrong length and scores too large to sum', () => {
    expect(() => baselineFromSums([1, 2, 3], [1, 2])).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => baselineVector({ eta: [1000], time: [1], event: [1] }, [1])).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });
});
