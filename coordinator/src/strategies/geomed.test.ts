import fc from 'fast-check';
import { isTwinfedError } from '@twinfed/shared';
import { geomed, geometricMedian } from './geomed';
import { ctxOf, expectClose, result, runRound } from './__tests__/fixtures';

const g = ctxOf([0, 0]);
const gm = () => geomed({ maxIterations: 1000, smoothing: 1e-9 });

const dist = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j]! - b[j]!) ** 2;
  return Math.sqrt(s);
};

describe('geometricMedian (smoothed Weiszfeld)', () => {
  test('finds the Fermat point of a triangle, where each side subtends 120°', () => {
    // right isosceles triangle (0,0), (1,0), (0,1): the Fermat point is (t, t), t = (3 − √3)/6
    const t = (3 - Math.sqrt(3)) / 6;
    const { median } = geometricMedian(
      [Float32Array.from([0, 0]), Float32Array.from([1, 0]), Float32Array.from([0, 1])],
      { maxIterations: 1000, smoothing: 1e-12 },
    );
    expectClose(median, [t, t], 1e-5);
  });

  test('finds the middle point of collinear points (the 1-D median), however far the others', () => {
    const pts = [
      [0, 0],
      [1, 1],
      [1e6, 1e6],
    ].map((p) => Float32Array.from(p));
    expectClose(geometricMedian(pts, { maxIterations: 1000, smoothing: 1e-9 }).median, [1, 1], 1e-5);
  });

  test('lands exactly on a repeated input point that is the median, where Weiszfeld alone crawls', () => {
    // Found by a CI run (fast-check seed -2146810882): [0, 0] twice and two points to its left, whose unit vectors
    // sum to 1.9998 < 2, so [0, 0] is the median; from the coordinate median (-0.0036, 0) Weiszfeld's steps shrink
    // like 1/k and 1,000 of them stopped at -0.0031, 0.07 % above the optimum's distance sum.
    const pts = [
      [-0.0074605478439480075, 0.00020684410264948386],
      [0, 0],
      [-0.0072805003728717566, 0],
      [0, 0],
    ].map((p) => Float32Array.from(p));
    const r = geometricMedian(pts, { maxIterations: 1000, smoothing: 1e-9 });
    expect(Array.from(r.median)).toEqual([0, 0]);
    expect(r.stationarity).toBe(0);
  });

  test('sums no more distance than the mean, the coordinate median or any input point', () => {
    const sumDist = (z: ArrayLike<number>, pts: readonly Float32Array[]) => pts.reduce((a, p) => a + dist(z, p), 0);
    const cloud = fc.integer({ min: 1, max: 5 }).chain((d) =>
      fc.array(fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: d, maxLength: d }), {
        minLength: 1,
        maxLength: 8,
      }),
    );
    fc.assert(
      fc.property(cloud, (raw) => {
        const pts = raw.map((p) => Float32Array.from(p));
        const z = geometricMedian(pts, { maxIterations: 1000, smoothing: 1e-9 }).median;
        const mine = sumDist(z, pts);
        const mean = pts[0]!.map((_, j) => pts.reduce((a, p) => a + p[j]!, 0) / pts.length);
        const median = pts[0]!.map((_, j) => {
          const c = pts.map((p) => p[j]!).sort((a, b) => a - b);
          const h = c.length >> 1;
          return c.length % 2 ? c[h]! : (c[h - 1]! + c[h]!) / 2;
        });
        // Weiszfeld stops once stationary to its tolerance, not at the exact optimum: its objective may exceed a
        // competitor's by a few parts in 10^9 (a CI run found 6e-9 with points ±100 apart), so 1e-7 relative slack.
        for (const other of [mean, median, ...pts])
          expect(mine).toBeLessThanOrEqual(sumDist(other, pts) * (1 + 1e-7) + 1e-6);
      }),
      {
        numRuns: 300,
        // Found by CI runs: 6e-9 above a competitor, beyond the former 1e-9 relative slack; a median on a repeated
        // point and one next to an input point (found by 10^5 runs), where Weiszfeld alone crawled.
        examples: [
          [
            [
              [-0.0074605478439480075, 0.00020684410264948386],
              [0, 0],
              [-0.0072805003728717566, 0],
              [0, 0],
            ],
          ],
          [
            [
              [0, -0.1510157510638237, 0, 0, -4.65661315063315e-10],
              [0, 0, 0, 0.002215859363786876, 0],
              [0, -0.09353410080075265, 0, 0, 0],
              [0, 0, 0, 0, 0],
            ],
          ],
          [
            [
              [0, 0, 0],
              [0, 0.04095395468175411, 0],
              [0, -98.51054000854492, -1.3712522387504578],
              [0, 99.99999618530273, 0.30521152913570404],
            ],
          ],
        ],
      },
    );
  });

  test('never increases the summed distance from one step to the next, and stops early once stationary', () => {
    // five points, one of them (0,0) the coordinate median where the iteration starts (the Vardi–Zhang step)
    const pts = [
      [0, 0],
      [3, 0],
      [0, 4],
      [-1, 5],
      [2, -2],
    ].map((p) => Float32Array.from(p));
    const objectives = Array.from(
      { length: 30 },
      (_, k) => geometricMedian(pts, { maxIterations: k, smoothing: 1e-9 }).objective,
    );
    for (let k = 1; k < objectives.length; k++)
      expect(objectives[k]!).toBeLessThanOrEqual(objectives[k - 1]! * (1 + 1e-12));
    expect(objectives[29]!).toBeLessThan(objectives[0]!);
    const done = geometricMedian(pts, { maxIterations: 1000, smoothing: 1e-9 });
    expect(done.iterations).toBeLessThan(1000);
    expect(done.stationarity).toBeLessThanOrEqual(5e-9);
  });
});

describe('geomed strategy', () => {
  test('gives every site one vote whatever its example count', () => {
    // the Fermat point of (0,0), (1,0), (0,1), although (0,1) claims 1000× the rows of the others
    const t = (3 - Math.sqrt(3)) / 6;
    const out = runRound(gm(), g, [result('a', 1, [0, 0]), result('b', 1, [1, 0]), result('c', 1000, [0, 1])]);
    expectClose(out.weights, [t, t], 1e-5);
    expect(out.contributors).toEqual(['a', 'b', 'c']);
    expect(out.metrics.geomedIterations).toBeGreaterThan(0);
    expect(out.metrics.geomedStationarity).toBeLessThanOrEqual(3e-9);
  });

  test('gives the same weights whatever the arrival order', () => {
    const rs = [result('a', 3, [0, 0.3]), result('b', 5, [1, -2]), result('c', 7, [0.2, 4]), result('d', 9, [-8, 1])];
    expect(Array.from(runRound(gm(), g, [...rs].reverse()).weights)).toEqual(Array.from(runRound(gm(), g, rs).weights));
  });

  test('refuses hyperparameters outside their range', () => {
    for (const bad of [
      { maxIterations: 0, smoothing: 1e-6 },
      { maxIterations: 1.5, smoothing: 1e-6 },
      { maxIterations: 10, smoothing: 0 },
      { maxIterations: 10, smoothing: Number.POSITIVE_INFINITY },
    ]) {
      let err: unknown;
      try {
        geomed(bad);
      } catch (e) {
        err = e;
      }
      expect(isTwinfedError(err, 'INVALID_PLAN')).toBe(true);
    }
  });

  /*
   * Minsker (2015), Lemma 2.1: if the geometric median z of n points is farther than C_α·r from a point x, more than
   * α·n of the points lie farther than r from x, C_α = (1 − α)/√(1 − 2α). With f < n/2 attackers and every honest
   * point within r of x, α = f/n gives ‖z − x‖ ≤ C_α·r, whatever the attackers send. The bound is checked on the
   * float32 weights the strategy publishes; the slack covers Weiszfeld stopping short and float32 rounding.
   */
  test('stays within C_α·r of the honest centre with f < n/2 attackers of arbitrary finite values', () => {
    const finite = fc.float({ noNaN: true, noDefaultInfinity: true });
    const scenario = fc
      .record({ n: fc.integer({ min: 1, max: 9 }), d: fc.integer({ min: 1, max: 6 }) })
      .chain(({ n, d }) =>
        fc.record({
          f: fc.integer({ min: 0, max: Math.ceil(n / 2) - 1 }),
          centre: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: d, maxLength: d }),
          offsets: fc.array(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: d, maxLength: d }), {
            minLength: n,
            maxLength: n,
          }),
          attackers: fc.array(fc.array(finite, { minLength: d, maxLength: d }), { minLength: n, maxLength: n }),
          order: fc.array(fc.nat(), { minLength: n, maxLength: n }),
        }),
      );
    fc.assert(
      fc.property(scenario, ({ f, centre, offsets, attackers, order }) => {
        const n = offsets.length;
        const honest = offsets.slice(f).map((o) => Float32Array.from(o, (v, j) => centre[j]! + v));
        const r = Math.max(...honest.map((h) => dist(h, centre)));
        const points = [...attackers.slice(0, f).map((a) => Float32Array.from(a)), ...honest];
        const results = points.map((w, i) => result(`s${String(order[i]).padStart(12, '0')}-${i}`, 1, w));
        const out = runRound(gm(), ctxOf(new Float32Array(centre.length)), results);
        const alpha = f / n;
        const bound = ((1 - alpha) / Math.sqrt(1 - 2 * alpha)) * r;
        const got = dist(out.weights, centre);
        expect(got).toBeLessThanOrEqual(bound * (1 + 1e-3) + 1e-4);
      }),
      { numRuns: 300 },
    );
  });
});
