/**
 * The cross-site evaluation matrix (plan `crossSiteEvaluation`): once a federation has completed, each participating
 * site trains a local-only model (its own training rows, the plan's model and training settings, the plan's rounds)
 * and seals it to every candidate site's box key (envelope/cross-site); the coordinator relays only ciphertext. Each
 * participant then evaluates the final global model and every participant's local model on its own test rows and
 * reports the metrics only. Phases: `models` (answers: sealed models or a refusal) → `evaluating` (results) →
 * `complete` (the coordinator signs the matrix). Each phase ends when every site it waits for has answered, or at its
 * deadline (`crossSiteEvaluation.deadlineSeconds`), so a silent site never blocks it.
 */
import { z } from 'zod';
import { CohortMemberSchema, IdSchema } from './api';

const b64 = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64');

/** Base64 length bound of one sealed local model (the JSON body limit, 1 MiB, bounds all of them together). */
const MAX_BOX_B64 = 1_000_000;
/** Most boxes one answer carries (one per candidate site). */
const CROSS_SITE_MAX_CANDIDATES = 64;

/** The phases of a cross-site evaluation. */
const CrossSiteStateSchema = z.enum(['models', 'evaluating', 'complete']);

/** The metric of the matrix: AUC for binary models, Harrell's C-index for Cox models. */
const CrossSiteMetricSchema = z.enum(['auc', 'cIndex']);

/** One sealed local model, addressed to one candidate (the sender's own model to itself included). */
const SealedModelSchema = z.strictObject({ recipient: IdSchema, nonce: b64(64), ciphertext: b64(MAX_BOX_B64) });

/**
 * POST /v1/federations/:fid/cross-site/answer (site, `models` phase): its local-only model sealed to every candidate
 * (`boxes`, one per candidate, itself included), or its refusal (site policy `crossSiteEvaluation.allowed: false`).
 * Insert-once: a second answer of the same kind is a duplicate (the first boxes are kept).
 */
export const CrossSiteAnswerSchema = z.union([
  z.strictObject({ refused: z.literal(true) }),
  z.strictObject({ boxes: z.array(SealedModelSchema).min(1).max(CROSS_SITE_MAX_CANDIDATES) }),
]);
export type CrossSiteAnswer = z.infer<typeof CrossSiteAnswerSchema>;

const metricValue = z.number().min(0).max(1).nullable();

/**
 * POST /v1/federations/:fid/cross-site/results (site, `evaluating` phase): the metric of the global model and of each
 * participant's local model on this site's test rows (`values`, keyed `global` or the model's site id; null when the
 * metric is undefined there, e.g. a one-class test split, or the box did not open) and the test rows `n`; or
 * `withheld` when the site's test rows are fewer than its k (the plan's population k or the site policy's larger one).
 */
export const CrossSiteResultSchema = z.union([
  z.strictObject({ withheld: z.literal(true) }),
  z.strictObject({
    n: z.int().min(1).max(1e9),
    global: metricValue,
    local: z
      .record(IdSchema, metricValue)
      .refine((r) => Object.keys(r).length <= CROSS_SITE_MAX_CANDIDATES, 'too many models'),
  }),
]);
export type CrossSiteResult = z.infer<typeof CrossSiteResultSchema>;

/** Answer to an answer or a result. */
export const CrossSiteAckSchema = z.object({
  federationId: IdSchema,
  siteId: IdSchema,
  status: z.enum(['accepted', 'duplicate']),
});
export type CrossSiteAck = z.infer<typeof CrossSiteAckSchema>;

/**
 * GET /v1/federations/:fid/cross-site/session (site): the evaluation as the calling site sees it. `candidates` are the
 * sites that contributed to the federation (signed directory entries: seal to these keys only); `participants` the
 * sites whose models were stored when the `models` phase ended (null before); `boxes` the sealed models addressed to
 * this site, only while it is a participant that has not reported (deleted once it has).
 */
export const CrossSiteSessionSchema = z.object({
  federationId: IdSchema,
  state: CrossSiteStateSchema,
  globalVersionId: IdSchema,
  metric: CrossSiteMetricSchema,
  candidates: z.array(CohortMemberSchema),
  participants: z.array(IdSchema).nullable(),
  modelsDeadlineAt: z.string(),
  resultsDeadlineAt: z.string().nullable(),
  answered: z.boolean(),
  reported: z.boolean(),
  boxes: z.array(z.object({ sender: IdSchema, nonce: b64(64), ciphertext: b64(MAX_BOX_B64) })),
});
export type CrossSiteSession = z.infer<typeof CrossSiteSessionSchema>;

/** A column of the matrix: one site's test data. */
const ColumnSchema = z.object({
  siteId: IdSchema,
  /** reported: values below; withheld: fewer test rows than the site's k; missing: no result before the deadline. */
  status: z.enum(['reported', 'withheld', 'missing']),
  n: z.int().min(1).nullable(),
});

/**
 * The cross-site evaluation matrix as the coordinator signs it: one row per model (`global`, then each participant's
 * local model, `siteId` naming it), one column per participant's test data, `values[column]` the metric or null (withheld, missing,
 * undefined). `refused` and `silent` name the candidates that did not take part (refused by policy; no answer before
 * the `models` deadline).
 */
export const CrossSiteMatrixSchema = z.object({
  federationId: IdSchema,
  globalVersionId: IdSchema,
  metric: CrossSiteMetricSchema,
  participants: z.array(IdSchema),
  refused: z.array(IdSchema),
  silent: z.array(IdSchema),
  columns: z.array(ColumnSchema),
  rows: z.array(
    z.object({ model: z.enum(['global', 'local']), siteId: IdSchema.nullable(), values: z.array(metricValue) }),
  ),
  completedAt: z.string(),
});
export type CrossSiteMatrix = z.infer<typeof CrossSiteMatrixSchema>;

/** The matrix with the coordinator's Ed25519 signature (envelope/cross-site `signCrossSiteMatrix`). */
const SignedCrossSiteMatrixSchema = CrossSiteMatrixSchema.extend({ signature: b64(100) });
export type SignedCrossSiteMatrix = z.infer<typeof SignedCrossSiteMatrixSchema>;

/**
 * GET /v1/federations/:fid/cross-site (operators, researchers): the evaluation's progress and, once complete, the
 * signed matrix. `state` is `not-started` while the federation runs (or when it failed).
 */
export const CrossSiteViewSchema = z.object({
  federationId: IdSchema,
  state: z.enum(['not-started', 'models', 'evaluating', 'complete']),
  candidates: z.array(IdSchema),
  answered: z.array(IdSchema),
  reported: z.array(IdSchema),
  modelsDeadlineAt: z.string().nullable(),
  resultsDeadlineAt: z.string().nullable(),
  matrix: SignedCrossSiteMatrixSchema.nullable(),
});
export type CrossSiteView = z.infer<typeof CrossSiteViewSchema>;
