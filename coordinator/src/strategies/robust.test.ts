import { krum } from './krum';
import { fedMedian, fedTrimmedAvg } from './robust';
import { ctxOf, expectClose, result, runRound } from './__tests__/fixtures';

const g = ctxOf([0, 0]);

describe('FedMedian', () => {
  it('takes the coordinate-wise median (odd count), ignoring example counts', () => {
    const out = runRound(fedMedian(), g, [result('a', 1, [1, 100]), result('b', 1000, [5, 2]), result('c', 1, [3, -7])]);
    expectClose(out.weights, [3, 2]);
  });

  it('averages the two middle values for an even count', () => {
    const out = runRound(fedMedian(), g, [result('a', 1, [1, 0]), result('b', 1, [2, 0]), result('c', 1, [10, 4]), result('d', 1, [-50, 6])]);
    expectClose(out.weights, [1.5, 2]);
  });
});

describe('FedTrimmedAvg', () => {
  const rs = [result('a', 1, [1, 5]), result('b', 1, [2, 5]), result('c', 1, [3, 5]), result('d', 1, [4, 5]), result('e', 1, [100, -1000])];

  it('drops ⌊beta·n⌋ values at each end per coordinate', () => {
    // beta 0.2, n 5 → drop 1 each side: (2 + 3 + 4) / 3 = 3 and (5 + 5 + 5) / 3 = 5
    const out = runRound(fedTrimmedAvg({ beta: 0.2 }), g, rs);
    expectClose(out.weights, [3, 5]);
    expect(out.metrics.trimmedPerSide).toBe(1);
  });

  it('is the plain mean when ⌊beta·n⌋ = 0', () => {
    // beta 0.1, n 5 → nothing dropped: (1 + 2 + 3 + 4 + 100) / 5 = 22 and (20 − 1000) / 5 = −196
    expectClose(runRound(fedTrimmedAvg({ beta: 0.1 }), g, rs).weights, [22, -196]);
  });
});

describe('Krum', () => {
  // a (0,0), b (1,0), c (0,2), d (1,1), outlier e (10,10); f = 1, n = 5 → n − f − 2 = 2 neighbours.
  // squared distances: ab 1, ac 4, ad 2, bc 5, bd 1, cd 2, ae 200, be 181, ce 164, de 162
  // scores: a 1+2 = 3, b 1+1 = 2, c 2+4 = 6, d 1+2 = 3, e 162+164 = 326
  const rs = [result('e', 1, [10, 10]), result('c', 1, [0, 2]), result('a', 1, [0, 0]), result('d', 1, [1, 1]), result('b', 1, [1, 0])];

  it('picks the update with the lowest score', () => {
    const out = runRound(krum({ byzantine: 1, multi: 1 }), g, rs);
    expect(Array.from(out.weights)).toEqual([1, 0]);
    expect(out.contributors).toEqual(['b']);
    expect(out.metrics.krumBestScore).toBe(2);
  });

  it('multi-Krum averages the best `multi` and excludes the outlier', () => {
    // best three: b (2), then a and d (3): mean of (1,0), (0,0), (1,1) = (2/3, 1/3)
    const out = runRound(krum({ byzantine: 1, multi: 3 }), g, rs);
    expectClose(out.weights, [2 / 3, 1 / 3]);
    expect(out.contributors).toEqual(['a', 'b', 'd']);
  });

  it('never averages more than n − f updates, so the outlier stays out', () => {
    const out = runRound(krum({ byzantine: 1, multi: 5 }), g, rs);
    expect(out.contributors).toEqual(['a', 'b', 'c', 'd']);
    expectClose(out.weights, [0.5, 0.75]);
  });

  it('gives the same answer whatever the arrival order', () => {
    const s = krum({ byzantine: 1, multi: 2 });
    expect(Array.from(runRound(s, g, [...rs].reverse()).weights)).toEqual(Array.from(runRound(s, g, rs).weights));
  });

  it('needs at least 2f + 3 updates', () => {
    expect(() => runRound(krum({ byzantine: 1, multi: 1 }), g, rs.slice(0, 4))).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});
