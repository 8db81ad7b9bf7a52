import type { Evaluation } from '@twinfed/models';
import { CALIBRATION_BINS, type Calibration } from '@twinfed/shared';

/**
 * The calibration a site reports for a model version: the model's reliability curve with every bin of fewer than
 * `minCell` rows reduced to its count (its rates withheld, as population cells below k are), and the expected
 * calibration error over all rows. Undefined when the model has no calibration (not a binary score), the curve is not
 * the reported 10 bins, or there is no row to measure it on.
 */
export function calibrationReport(calibration: Evaluation['calibration'], minCell: number): Calibration | undefined {
  if (!calibration || calibration.bins.length !== CALIBRATION_BINS || !Number.isFinite(calibration.ece))
    return undefined;
  return {
    ece: Math.min(1, Math.max(0, calibration.ece)),
    bins: calibration.bins.map((b) =>
      b.count === 0 || b.count < minCell || !Number.isFinite(b.meanPredicted) || !Number.isFinite(b.fractionPositive)
        ? { n: b.count, meanPredicted: null, observedRate: null }
        : { n: b.count, meanPredicted: b.meanPredicted, observedRate: b.fractionPositive },
    ),
  };
}
