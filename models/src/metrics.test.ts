import fc from 'fast-check';
import { SeededRandom } from '@twinfed/shared';
import { accuracy, brierScore, calibrationBins, expectedCalibrationError, logLoss, rocAuc } from './metrics';

// Hand example: positives score 0.4, 0.8, 0.9; negatives 0.1, 0.4, 0.8 (one tie at 0.4, one at 0.8).
const y = [0, 0, 1, 1, 0, 1];
const p = [0.1, 0.4, 0.4, 0.8, 0.8, 0.9];

/** The pairwise definition of AUC, for the property test. */
function pairwiseAuc(ys: number[], ps: number[]): number {
  let wins = 0;
  let pairs = 0;
  ys.forEach((yi, i) =>
    ys.forEach((yj, j) => {
      if (yi === 1 && yj === 0) {
        pairs++;
        wins += ps[i]! > ps[j]! ? 1 : ps[i] === ps[j] ? 0.5 : 0;
      }
    }),
  );
  return pairs === 0 ? NaN : wins / pairs;
}

describe('metrics', () => {
  test('AUC with ties: (1.5 + 2.5 + 3) / 9', () => {
    expect(rocAuc({ y, p })).toBeCloseTo(7 / 9, 12);
  });

  test('AUC edge cases', () => {
    expect(rocAuc({ y: [0, 1, 0, 1], p: [0.5, 0.5, 0.5, 0.5] })).toBe(0.5);
    expect(rocAuc({ y: [0, 0, 1], p: [0.1, 0.2, 0.9] })).toBe(1);
    expect(rocAuc({ y: [1, 1, 0], p: [0.1, 0.2, 0.9] })).toBe(0);
    expect(rocAuc({ y: [1, 1], p: [0.1, 0.2] })).toBeNaN();
    expect(rocAuc({ y: [], p: [] })).toBeNaN();
  });

  test('AUC equals the pairwise definition on random data', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 5 })), { maxLength: 40 }),
        (rows) => {
          const ys = rows.map((r) => r[0]);
          const ps = rows.map((r) => r[1] / 5);
          const expected = pairwiseAuc(ys, ps);
          const got = rocAuc({ y: ys, p: ps });
          return Number.isNaN(expected) ? Number.isNaN(got) : Math.abs(got - expected) < 1e-12;
        },
      ),
    );
  });

  test('accuracy counts p > 0.5 as positive, p = 0.5 as negative', () => {
    expect(accuracy({ y, p })).toBeCloseTo(4 / 6, 12);
    expect(accuracy({ y: [0, 1], p: [0.5, 0.5] })).toBe(0.5);
    expect(accuracy({ y: [1], p: [Math.fround(0.5000001)] })).toBe(1);
    expect(accuracy({ y: [], p: [] })).toBeNaN();
    expect(() => accuracy({ y: [1], p: [] })).toThrow(RangeError);
  });

  test('log loss and Brier score', () => {
    const ll = -(Math.log(0.9) + Math.log(0.6) + Math.log(0.4) + Math.log(0.8) + Math.log(0.2) + Math.log(0.9)) / 6;
    expect(logLoss({ y, p })).toBeCloseTo(ll, 12);
    expect(brierScore({ y, p })).toBeCloseTo((0.01 + 0.16 + 0.36 + 0.04 + 0.64 + 0.01) / 6, 12);
    const clipped = logLoss({ y: [1, 0], p: [0, 1] }); // clipped to [1e-15, 1 - 1e-15]: large but finite
    expect(Number.isFinite(clipped) && clipped > 34 && clipped < 35).toBe(true);
  });

  test('calibration bins and ECE', () => {
    const bins = calibrationBins({ y, p }, 2);
    expect(bins.map((b) => [b.lo, b.hi, b.count])).toEqual([
      [0, 0.5, 3],
      [0.5, 1, 3],
    ]);
    expect(bins[0]!.meanPredicted).toBeCloseTo(0.3, 12);
    expect(bins[0]!.fractionPositive).toBeCloseTo(1 / 3, 12);
    expect(bins[1]!.meanPredicted).toBeCloseTo(2.5 / 3, 12);
    expect(bins[1]!.fractionPositive).toBeCloseTo(2 / 3, 12);
    expect(calibrationBins({ y: [1], p: [1] }, 4)[3]!.count).toBe(1);
    expect(calibrationBins({ y: [1], p: [1] }, 4)[0]!.meanPredicted).toBeNaN();
    expect(expectedCalibrationError({ y, p }, 2)).toBeCloseTo(
      0.5 * Math.abs(0.3 - 1 / 3) + 0.5 * Math.abs(2.5 / 3 - 2 / 3),
      12,
    );
  });
});

describe('calibration over the reported 10 bins (issue #15)', () => {
  test('hand-computed reliability curve and ECE', () => {
    // Bin 0: p 0.05, 0.05 (0 of 2 positive); bin 3: p 0.3, 0.35, 0.35 (2 of 3); bin 9: p 0.95, 1 (2 of 2).
    const ys = [0, 0, 1, 0, 1, 1, 1];
    const ps = [0.05, 0.05, 0.3, 0.35, 0.35, 0.95, 1];
    const bins = calibrationBins({ y: ys, p: ps });
    expect(bins.map((b) => b.count)).toEqual([2, 0, 0, 3, 0, 0, 0, 0, 0, 2]);
    expect(bins[3]!.meanPredicted).toBeCloseTo(1 / 3, 12);
    expect(bins[3]!.fractionPositive).toBeCloseTo(2 / 3, 12);
    expect(bins[9]!.meanPredicted).toBeCloseTo(0.975, 12);
    expect(bins[1]!.fractionPositive).toBeNaN();
    // (2·|0.05 − 0| + 3·|1/3 − 2/3| + 2·|0.975 − 1|) / 7
    expect(expectedCalibrationError({ y: ys, p: ps })).toBeCloseTo((0.1 + 1 + 0.05) / 7, 12);
    expect(expectedCalibrationError({ y: [], p: [] })).toBeNaN();
  });

  test('ECE is within [0, 1] and the bin counts sum to n, for any labels and probabilities', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.double({ min: 0, max: 1, noNaN: true })), {
          minLength: 1,
          maxLength: 300,
        }),
        (rows) => {
          const scored = { y: rows.map((r) => r[0]), p: rows.map((r) => r[1]) };
          const bins = calibrationBins(scored);
          expect(bins).toHaveLength(10);
          expect(bins.reduce((a, b) => a + b.count, 0)).toBe(rows.length);
          bins.forEach((b, i) => {
            if (b.count > 0) expect(b.meanPredicted >= i / 10 && b.meanPredicted <= (i + 1) / 10).toBe(true);
          });
          const ece = expectedCalibrationError(scored);
          expect(ece >= 0 && ece <= 1).toBe(true);
        },
      ),
    );
  });

  test('perfectly calibrated data (y ~ Bernoulli(p), p uniform) has ECE below 0.03 at n = 20 000', () => {
    // Each bin holds ~2 000 rows: its observed rate deviates from its mean p by σ ≤ √(0.25/2000) ≈ 0.011, so the
    // count-weighted mean absolute deviation is ≈ 0.8σ ≈ 0.009; 0.03 is ~3σ of a single bin.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const rng = new SeededRandom(seed);
        const n = 20_000;
        const ps = Array.from({ length: n }, () => rng.next());
        const ys = ps.map((pi) => (rng.next() < pi ? 1 : 0));
        expect(expectedCalibrationError({ y: ys, p: ps })).toBeLessThan(0.03);
        // The same scores against flipped labels are far from calibrated: the test can fail.
        expect(expectedCalibrationError({ y: ys.map((v) => 1 - v), p: ps })).toBeGreaterThan(0.3);
      }),
      { numRuns: 20 },
    );
  });
});
