import { z } from 'zod';

/**
 * Calibration of a binary risk score on one site's held-out rows: the expected calibration error and the
 * reliability curve over equal-width probability bins. A bin holding fewer rows than the site's minimum cell size
 * (its population k) carries its count only: its mean prediction and observed rate are withheld (null), since a
 * tiny bin's observed rate is close to its few patients' outcomes.
 */

/** The number of equal-width probability bins of a reliability curve: [0, 0.1), [0.1, 0.2), … [0.9, 1]. */
export const CALIBRATION_BINS = 10;

const rate = z.number().min(0).max(1).nullable();
/** Slack of the bin-range check: a probability one rounding step below a bin edge may be binned above it. */
const EDGE_SLACK = 1e-9;

/** One bin of a reliability curve: how many predictions fell in it, their mean, and the observed positive rate. */
const CalibrationBinSchema = z
  .object({
    n: z.number().int().min(0).max(1e9),
    meanPredicted: rate.describe('Mean predicted probability in the bin; null when the bin is empty or withheld.'),
    observedRate: rate.describe('Observed fraction of positives in the bin; null when the bin is empty or withheld.'),
  })
  .strict()
  .superRefine((b, ctx) => {
    if ((b.meanPredicted === null) !== (b.observedRate === null))
      ctx.addIssue({ code: 'custom', message: 'meanPredicted and observedRate are both given or both null' });
    if (b.n === 0 && b.meanPredicted !== null)
      ctx.addIssue({ code: 'custom', path: ['meanPredicted'], message: 'an empty bin has no rates' });
  });

/** A reliability curve with its expected calibration error (count-weighted mean |meanPredicted − observedRate|). */
export const CalibrationSchema = z
  .object({
    ece: z.number().min(0).max(1),
    bins: z.array(CalibrationBinSchema).length(CALIBRATION_BINS),
  })
  .strict()
  .superRefine((c, ctx) => {
    c.bins.forEach((b, i) => {
      const lo = i / CALIBRATION_BINS;
      const hi = (i + 1) / CALIBRATION_BINS;
      if (b.meanPredicted !== null && (b.meanPredicted < lo - EDGE_SLACK || b.meanPredicted > hi + EDGE_SLACK))
        ctx.addIssue({
          code: 'custom',
          path: ['bins', i, 'meanPredicted'],
          message: `the mean prediction of bin ${i} must be within [${lo}, ${hi}]`,
        });
    });
  })
  .describe('Expected calibration error and a 10-bin reliability curve of a binary risk score.');
export type Calibration = z.infer<typeof CalibrationSchema>;
