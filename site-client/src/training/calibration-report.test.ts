import { calibrationBins, expectedCalibrationError } from '@twinfed/models';
import { CalibrationSchema, EvaluationReportSchema } from '@twinfed/shared';
import { calibrationReport } from './calibration-report';

/** 12 rows at p = 0.15 (3 positive), 3 rows at p = 0.85 (all positive), 1 row at p = 0.55 (negative). */
const y = [...Array<number>(9).fill(0), 1, 1, 1, 1, 1, 1, 0];
const p = [...Array<number>(12).fill(0.15), 0.85, 0.85, 0.85, 0.55];
const model = { ece: expectedCalibrationError({ y, p }), bins: calibrationBins({ y, p }) };

describe('calibrationReport', () => {
  test('bins below the minimum cell size report their count only; the ECE covers every row', () => {
    const report = calibrationReport(model, 10)!;
    expect(report.bins.map((b) => b.n)).toEqual([0, 12, 0, 0, 0, 1, 0, 0, 3, 0]);
    expect(report.bins[1]).toEqual({ n: 12, meanPredicted: expect.closeTo(0.15, 12), observedRate: 0.25 });
    expect(report.bins[5]).toEqual({ n: 1, meanPredicted: null, observedRate: null });
    expect(report.bins[8]).toEqual({ n: 3, meanPredicted: null, observedRate: null });
    expect(report.ece).toBeCloseTo((12 * 0.1 + 1 * 0.55 + 3 * 0.15) / 16, 12);
    expect(CalibrationSchema.parse(report)).toEqual(report);
    expect(EvaluationReportSchema.safeParse({ n: 16, metrics: {}, calibration: report }).success).toBe(true);
  });

  test('with a smaller k every non-empty bin shows its rates', () => {
    const report = calibrationReport(model, 1)!;
    expect(report.bins[8]).toEqual({ n: 3, meanPredicted: expect.closeTo(0.85, 6), observedRate: 1 });
    expect(report.bins[5]).toEqual({ n: 1, meanPredicted: expect.closeTo(0.55, 6), observedRate: 0 });
    expect(report.bins[0]).toEqual({ n: 0, meanPredicted: null, observedRate: null });
  });

  test('no calibration without a curve, without rows, or with another number of bins', () => {
    expect(calibrationReport(undefined, 10)).toBeUndefined();
    expect(calibrationReport({ ece: NaN, bins: calibrationBins({ y: [], p: [] }) }, 10)).toBeUndefined();
    expect(calibrationReport({ ece: 0.1, bins: calibrationBins({ y, p }, 5) }, 10)).toBeUndefined();
  });
});
