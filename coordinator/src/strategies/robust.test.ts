import fc from 'fast-check';
import { krum } from './krum';
import { fedMedian, fedTrimmedAvg } from './robust';
import { ctxOf, expectClose, result, runRound } from './__tests__/fixtures';

const g = ctxOf([0, 0]);

describe('FedMedian', () => {
  test('takes the coordinate-wise median (odd count), ignoring example counts', () => {
    const out = runRound(fedMedian(), g, [
      result('a', 1, [1, 100]),
      result('b', 1000, [5, 2]),
      result('c', 1, [3, -7]),
    ]);
    expectClose(out.weights, [3, 2]);
  });

  test('averages the two middle values for an even count', () => {
    const out = runRound(fedMedian(), g, [
      result('a', 1, [1, 0]),
      result('b', 1, [2, 0]),
      result('c', 1, [10, 4]),
      result('d', 1, [-50, 6]),
    ]);
    expectClose(out.weights, [1.5, 2]);
  });
});

describe('FedTrimmedAvg', () => {
  const rs = [
    result('a', 1, [1, 5]),
    result('b', 1, [2, 5]),
    result('c', 1, [3, 5]),
    result('d', 1, [4, 5]),
    result('e', 1, [100, -1000]),
  ];

  test('drops ⌊beta·n⌋ values at each end per coordinate', () => {
    // beta 0.2, n 5 → drop 1 each side: (2 + 3 + 4) / 3 = 3 and (5 + 5 + 5) / 3 = 5
    const out = runRound(fedTrimmedAvg({ beta: 0.2 }), g, rs);
    expectClose(out.weights, [3, 5]);
    expect(out.metrics.trimmedPerSide).toBe(1);
  });

  test('is the plain mean when ⌊beta·n⌋ = 0', () => {
    // beta 0.1, n 5 → nothing dropped: (1 + 2 + 3 + 4 + 100) / 5 = 22 and (20 − 1000) / 5 = −196
    expectClose(runRound(fedTrimmedAvg({ beta: 0.1 }), g, rs).weights, [22, -196]);
  });
});

describe('coordinate-wise rules with f attackers of arbitrary values', () => {
  // Per coordinate, with at most f values outside the honest range, the (trimmed) middle of the sorted values
  // stays within the honest minimum and maximum: median for f < n/2, trimmed mean when ⌊beta·n⌋ ≥ f.
  const scenario = fc
    .record({ n: fc.integer({ min: 1, max: 9 }), d: fc.integer({ min: 1, max: 5 }) })
    .chain(({ n, d }) =>
      fc.record({
        f: fc.integer({ min: 0, max: Math.ceil(n / 2) - 1 }),
        honest: fc.array(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: d, maxLength: d }), {
          minLength: n,
          maxLength: n,
        }),
        attackers: fc.array(
          fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: d, maxLength: d }),
          { minLength: n, maxLength: n },
        ),
      }),
    );
  const within = (weights: Float32Array, honest: number[][]) =>
    Array.from(weights).every((w, j) => {
      const col = honest.map((h) => Math.fround(h[j]!));
      return w >= Math.min(...col) && w <= Math.max(...col);
    });
  const run = (s: ReturnType<typeof fedMedian>, f: number, honest: number[][], attackers: number[][]) =>
    runRound(
      s,
      ctxOf(new Array<number>(honest[0]!.length).fill(0)),
      honest.map((h, i) => result(`s${i}`, 1, i < f ? attackers[i]! : h)),
    );

  test('the median stays within the honest hull per coordinate while f < n/2', () => {
    fc.assert(
      fc.property(scenario, ({ f, honest, attackers }) =>
        within(run(fedMedian(), f, honest, attackers).weights, honest.slice(f)),
      ),
      { numRuns: 300 },
    );
  });

  test('the trimmed mean stays within the honest hull per coordinate when it trims at least f values per side', () => {
    fc.assert(
      fc.property(scenario, ({ f, honest, attackers }) => {
        const n = honest.length;
        const beta = Math.min(0.49, (f + 0.5) / n); // ⌊beta·n⌋ ≥ f whenever f < n/2
        fc.pre(Math.floor(beta * n) >= f);
        return within(run(fedTrimmedAvg({ beta }), f, honest, attackers).weights, honest.slice(f));
      }),
      { numRuns: 300 },
    );
  });
});

describe('Krum', () => {
  // a (0,0), b (1,0), c (0,2), d (1,1), outlier e (10,10); f = 1, n = 5 → n − f − 2 = 2 neighbours.
  // squared distances: ab 1, ac 4, ad 2, bc 5, bd 1, cd 2, ae 200, be 181, ce 164, de 162
  // scores: a 1+2 = 3, b 1+1 = 2, c 2+4 = 6, d 1+2 = 3, e 162+164 = 326
  const rs = [
    result('e', 1, [10, 10]),
    result('c', 1, [0, 2]),
    result('a', 1, [0, 0]),
    result('d', 1, [1, 1]),
    result('b', 1, [1, 0]),
  ];

  test('picks the update with the lowest score', () => {
    const out = runRound(krum({ byzantine: 1, multi: 1 }), g, rs);
    expect(Array.from(out.weights)).toEqual([1, 0]);
    expect(out.contributors).toEqual(['b']);
    expect(out.metrics.krumBestScore).toBe(2);
  });

  test('multi-Krum averages the best `multi` and excludes the outlier', () => {
    // best three: b (2), then a and d (3): mean of (1,0), (0,0), (1,1) = (2/3, 1/3)
    const out = runRound(krum({ byzantine: 1, multi: 3 }), g, rs);
    expectClose(out.weights, [2 / 3, 1 / 3]);
    expect(out.contributors).toEqual(['a', 'b', 'd']);
  });

  test('never averages more than n − f updates, so the outlier stays out', () => {
    const out = runRound(krum({ byzantine: 1, multi: 5 }), g, rs);
    expect(out.contributors).toEqual(['a', 'b', 'c', 'd']);
    expectClose(out.weights, [0.5, 0.75]);
  });

  test('gives the same answer whatever the arrival order', () => {
    const s = krum({ byzantine: 1, multi: 2 });
    expect(Array.from(runRound(s, g, [...rs].reverse()).weights)).toEqual(Array.from(runRound(s, g, rs).weights));
  });

  test('needs at least 2f + 3 updates', () => {
    expect(() => runRound(krum({ byzantine: 1, multi: 1 }), g, rs.slice(0, 4))).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }),
    );
  });
});
