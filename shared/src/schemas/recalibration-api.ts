/**
 * GET/POST /v1/federations/:fid/recalibration: the secure sum of a federation's recalibration histograms (plan option
 * `recalibration`; docs/plan.md). Contributions use `StatsContributionSchema` and are answered with `StatsAckSchema`.
 */
import { z } from 'zod';
import { CohortMemberSchema } from './api';
import { IdSchema } from './ids';
import { RecalibrationMethodSchema, RecalibrationParamsSchema } from './recalibration';

/**
 * `waiting`: the federation has not completed; `open`: the sites send their masked histograms of the final version
 * (`baseVersionId`) until `deadlineAt`; `fitted`: the recalibrated version `versionId` is signed; `expired`: a cohort
 * member was silent at the deadline; `failed`: the federation did not complete, the cohort is too small or the fit
 * failed (`reason`).
 */
const RecalibrationStateSchema = z.enum(['waiting', 'open', 'fitted', 'expired', 'failed']);

/** The recalibration of a federation, as sites (and readers) see it. */
export const RecalibrationSessionSchema = z.object({
  federationId: IdSchema,
  method: RecalibrationMethodSchema,
  state: RecalibrationStateSchema,
  baseVersionId: IdSchema.nullable(),
  deadlineAt: z.iso.datetime().nullable(),
  length: z.number().int().min(1).max(200_001),
  fractionBits: z.number().int().min(0).max(40),
  cohort: z.array(CohortMemberSchema),
  contributed: z.array(IdSchema),
  versionId: IdSchema.nullable(),
  params: RecalibrationParamsSchema.nullable(),
  reason: z.string().max(500).nullable(),
});
/** A federation's recalibration session. */
export type RecalibrationSession = z.infer<typeof RecalibrationSessionSchema>;
