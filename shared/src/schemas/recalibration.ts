/**
 * Federated recalibration of a binary model's scores (the plan option and the parameters signed into a version).
 * The math is in recalibration.ts; the protocol in docs/plan.md (`recalibration`).
 */
import { z } from 'zod';
import { IdSchema } from './ids';

/** How a binary model's log-odds z are mapped to a calibrated probability: σ(a·z + b) (Platt) or σ(z / T) (temperature). */
export const RecalibrationMethodSchema = z.enum(['platt', 'temperature']);
/** A recalibration method. */
export type RecalibrationMethod = z.infer<typeof RecalibrationMethodSchema>;

/** The plan option `recalibration` (binary models only). */
export const RecalibrationPlanSchema = z
  .object({
    method: RecalibrationMethodSchema.describe(
      '`platt`: p = σ(a·z + b) on the model’s log-odds z; `temperature`: p = σ(z / T) (one parameter, keeps every score’s side of 0.5).',
    ),
    deadlineSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .default(600)
      .describe(
        'Seconds after the final version during which the sites send their masked histograms; a site silent by then leaves the federation without a recalibrated version (the federation itself is already completed).',
      ),
  })
  .strict()
  .describe(
    'Optional federated recalibration after the last round: every site sends a masked histogram of the final version’s log-odds on its held-out rows through the secure sum, the coordinator fits the method on the summed histogram and signs a recalibrated version (same weights); binary models only.',
  );

/** The fitted parameters signed into a recalibrated version's metadata: scores are σ(a·z + b) of the log-odds z. */
export const RecalibrationParamsSchema = z.strictObject({
  method: RecalibrationMethodSchema,
  /** Slope on the log-odds (temperature scaling: 1 / T). */
  a: z.number().positive().max(1e6),
  /** Intercept (0 for temperature scaling). */
  b: z.number().min(-1e6).max(1e6),
  /** The version whose scores were recalibrated (same weights). */
  baseVersionId: IdSchema,
  /** Held-out rows of the cohort the fit used. */
  rows: z.int().min(1),
});
/** Signed recalibration parameters. */
export type RecalibrationParams = z.infer<typeof RecalibrationParamsSchema>;
