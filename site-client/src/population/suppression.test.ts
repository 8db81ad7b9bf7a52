import fc from 'fast-check';
import { suppressLine } from './suppression';

describe('suppressLine: a one-way table and its total', () => {
  test('nothing below k: everything released', () => {
    expect(suppressLine({ released: [25, 15], exact: [25, 15], k: 10 })).toEqual({
      cells: [false, false],
      total: false,
    });
  });

  test('one small cell hides the smallest other one too, else the total would give it back', () => {
    expect(suppressLine({ released: [7, 19, 12], exact: [7, 19, 12], k: 10 })).toEqual({
      cells: [true, false, true],
      total: false,
    });
  });

  test('hidden cells whose derivable sum is below k take another cell with them', () => {
    // 3 + 4 = 7 < 10 would be known from the total: hide 12 too.
    expect(suppressLine({ released: [3, 4, 12, 30], exact: [3, 4, 12, 30], k: 10 })).toEqual({
      cells: [true, true, true, false],
      total: false,
    });
  });

  test('a total below k is hidden with every cell; noisy and exact counts both count', () => {
    expect(suppressLine({ released: [4, 3], exact: [4, 3], k: 10 })).toEqual({ cells: [true, true], total: true });
    expect(suppressLine({ released: [12, 30], exact: [8, 30], k: 10 })).toEqual({ cells: [true, true], total: false });
  });

  test('property: no released count below k, never exactly one hidden cell beside a released total, and the hidden sum is at least k', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 40 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 2, max: 20 }),
        (xs, k) => {
          const s = suppressLine({ released: xs, exact: xs, k });
          const total = xs.reduce((a, b) => a + b, 0);
          const hidden = xs.filter((_, i) => s.cells[i]);
          if (xs.some((x, i) => !s.cells[i] && x < k)) return false;
          if (s.total) return total < k;
          if (hidden.length === 1 && xs.length > 1) return false;
          return hidden.length === 0 || hidden.reduce((a, b) => a + b, 0) >= k || hidden.length === xs.length;
        },
      ),
      { numRuns: 300, seed: 11 },
    );
  });
});
