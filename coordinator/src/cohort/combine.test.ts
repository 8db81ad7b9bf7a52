import fc from 'fast-check';
import { combineCounts, poolMoments, type Moments } from './combine';

const momentsOf = (xs: readonly number[]): Moments => ({
  n: xs.length,
  sum: xs.reduce((a, x) => a + x, 0),
  sumSq: xs.reduce((a, x) => a + x * x, 0),
});

/** Two-pass mean and sample variance of one pooled sample: what the combination must reproduce. */
function pooledDirectly(xs: readonly number[]): { mean: number; variance: number | null } {
  const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
  const variance = xs.length > 1 ? xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1) : null;
  return { mean, variance };
}

const close = (a: number, b: number, scale: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, scale);

describe('combineCounts', () => {
  test('sums released parts; a suppressed part makes the sum a lower bound', () => {
    expect(combineCounts([15, 25])).toEqual({ value: 40, atLeast: false, sites: 2, suppressedSites: 0 });
    expect(combineCounts([15, null])).toEqual({ value: 15, atLeast: true, sites: 1, suppressedSites: 1 });
    expect(combineCounts([null, null])).toEqual({ value: 0, atLeast: true, sites: 0, suppressedSites: 2 });
    expect(combineCounts([])).toEqual({ value: 0, atLeast: false, sites: 0, suppressedSites: 0 });
  });
});

describe('poolMoments', () => {
  test('equals the mean and sample variance of the pooled values (property)', () => {
    const value = fc.double({ min: -1e4, max: 1e4, noNaN: true, noDefaultInfinity: true });
    fc.assert(
      fc.property(
        fc.array(fc.array(value, { minLength: 0, maxLength: 40 }), { minLength: 1, maxLength: 6 }),
        (sites) => {
          const all = sites.flat();
          const pooled = poolMoments(sites.map(momentsOf));
          if (all.length === 0) return pooled === null;
          const direct = pooledDirectly(all);
          const scale = all.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
          if (pooled === null || pooled.n !== all.length) return false;
          if (!close(pooled.mean, direct.mean, scale)) return false;
          if (direct.variance === null) return pooled.variance === null && pooled.sd === null;
          // Σx² − (Σx)²/n loses up to ~n·ε·max² per site: compare on that scale.
          return (
            pooled.variance !== null &&
            Math.abs(pooled.variance - direct.variance) <= 1e-9 * Math.max(1, scale * scale) &&
            close(pooled.sd!, Math.sqrt(pooled.variance), scale)
          );
        },
      ),
      { numRuns: 500, seed: 13 },
    );
  });

  test('a worked example: two sites with different means', () => {
    const a = [1, 2, 3, 4];
    const b = [10, 12];
    const p = poolMoments([momentsOf(a), momentsOf(b)])!;
    expect(p.n).toBe(6);
    expect(p.mean).toBeCloseTo(32 / 6, 12);
    expect(p.variance).toBeCloseTo(pooledDirectly([...a, ...b]).variance!, 12);
    expect(poolMoments([{ n: 0, sum: 0, sumSq: 0 }])).toBeNull();
    expect(poolMoments([momentsOf([7])])).toEqual({ n: 1, mean: 7, variance: null, sd: null });
  });
});
