import { z } from 'zod';
import { nameKeySchema, nameSchema } from './names';
import { PlanSchema, type Plan } from './plan';
import { CalibrationSchema } from './calibration';
import { ID_RE, IdSchema } from './ids';
import { SignedPlanSchema } from '../envelope/signed-plan';
import { printable } from '../printable';

const b64 = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64');
const id = IdSchema;
const iso = z.string().min(1).max(40);
const metricRecord = z
  .record(nameKeySchema(64), z.number().refine(Number.isFinite, 'finite'))
  .refine((r) => Object.keys(r).length <= 64, 'at most 64 metrics');

export { ID_RE, IdSchema };

/** The coordinator's public identity, pinned by sites at enrollment. */
export const CoordinatorKeysSchema = z.object({
  protocol: z.number().int(),
  signPublicKey: b64,
  boxPublicKey: b64,
  fingerprint: z.string(),
});
export type CoordinatorKeys = z.infer<typeof CoordinatorKeysSchema>;

/** POST /v1/enroll: a site presents its one-time token and its freshly generated public keys. */
export const EnrollRequestSchema = z
  .object({
    protocol: z.number().int(),
    token: z.string().min(16).max(200),
    signPublicKey: b64,
    boxPublicKey: b64,
    /** Proof of possession of both keys (`signEnrollProof`). Required: a request without it is refused `ENROLL_PROOF_INVALID`, the clear answer to a site client older than the check. */
    proof: z.object({ signature: b64, boxProof: b64 }).strict().optional(),
  })
  .strict();
export type EnrollRequest = z.infer<typeof EnrollRequestSchema>;

/** Enrollment answer: the site's id and the coordinator keys to pin. */
export const EnrollResponseSchema = z.object({ siteId: id, name: z.string(), coordinator: CoordinatorKeysSchema });
export type EnrollResponse = z.infer<typeof EnrollResponseSchema>;

/**
 * The study every federation belongs to unless it was created in another one: the migration that introduced studies
 * put every existing federation (and every existing researcher token) in it.
 */
export const DEFAULT_STUDY_ID = 'default';

/** POST /v1/federations (operator): the plan is checked by the coordinator itself (`INVALID_PLAN` with the issues; see `PlanSchema`). */
export const CreateFederationSchema = z
  .object({
    plan: z.unknown().describe('A federation plan (docs/plan.md; `twinfed plan schema` prints its JSON Schema).'),
    study: id
      .optional()
      .describe(
        `The study the federation belongs to (a study id: \`twinfed studies list\`); absent: the \`${DEFAULT_STUDY_ID}\` study. An unknown study: \`UNKNOWN_STUDY\`.`,
      ),
  })
  .strict();
export type CreateFederation = z.infer<typeof CreateFederationSchema>;

/** The body of an action that takes no input (revocations): `{}`. */
export const EmptyBodySchema = z.object({}).strict();

/** POST /v1/admin/invitations (operator). */
export const CreateInvitationSchema = z
  .object({
    siteName: nameSchema({ max: 100, unique: true }),
    ttlSeconds: z
      .number()
      .int()
      .min(60)
      .max(30 * 24 * 3600)
      .default(24 * 3600),
  })
  .strict();
export type CreateInvitation = z.input<typeof CreateInvitationSchema>;

/** The one-time token is shown once, here, and stored only hashed. */
export const InvitationResponseSchema = z.object({
  invitationId: id,
  siteName: z.string(),
  token: z.string(),
  expiresAt: iso,
});
export type InvitationResponse = z.infer<typeof InvitationResponseSchema>;

/** A study's description: one line of printable text (no control characters or line breaks). */
const description = z
  .string()
  .max(2000)
  .transform((s) => s.normalize('NFKC'))
  .pipe(
    z
      .string()
      .min(1)
      .max(500)
      .refine((s) => printable(s) === s, 'one line of printable text (no control characters or line breaks)'),
  );

/** POST /v1/studies (operator): a study (a named project) that federations and researcher tokens belong to. */
export const CreateStudySchema = z
  .object({
    name: nameSchema({ max: 100, unique: true }).describe('Unique among studies.'),
    description: description.optional(),
  })
  .strict();
export type CreateStudy = z.input<typeof CreateStudySchema>;

/** A study: researchers scoped to it see its federations, their versions, evaluations and population views. */
export const StudyViewSchema = z.object({ id, name: z.string(), description: z.string().nullable(), createdAt: iso });
export type StudyView = z.infer<typeof StudyViewSchema>;

/**
 * POST /v1/admin/tokens (operator): a bearer token for a researcher (read-only, scoped to `studies`) or another
 * operator (every study; `studies` is refused for it).
 */
export const CreateApiTokenSchema = z
  .object({
    name: nameSchema({ max: 100, unique: true }),
    role: z.enum(['operator', 'researcher']),
    studies: z
      .array(id)
      .min(1)
      .max(100)
      .optional()
      .describe(
        'Researcher tokens: the ids of the studies the token may read (required, each once; unknown: `UNKNOWN_STUDY`). Operator tokens: absent (operators see every study).',
      ),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.role === 'researcher' && t.studies === undefined)
      ctx.addIssue({ code: 'custom', path: ['studies'], message: 'a researcher token needs at least one study' });
    if (t.role === 'operator' && t.studies !== undefined)
      ctx.addIssue({ code: 'custom', path: ['studies'], message: 'operator tokens see every study: give no studies' });
    if (t.studies && new Set(t.studies).size !== t.studies.length)
      ctx.addIssue({ code: 'custom', path: ['studies'], message: 'each study once' });
  });
export type CreateApiToken = z.infer<typeof CreateApiTokenSchema>;

/** A bearer token as listed: never its value or hash. */
export const ApiTokenViewSchema = z.object({
  id,
  name: z.string(),
  role: z.enum(['operator', 'researcher']),
  /** The studies a researcher token may read; empty for operator tokens (which see every study). */
  studies: z.array(id),
  createdAt: iso,
  revokedAt: iso.nullable(),
});
export type ApiTokenView = z.infer<typeof ApiTokenViewSchema>;

/** The token value is shown once, here, and stored only hashed. */
export const ApiTokenCreatedSchema = ApiTokenViewSchema.extend({ token: z.string() });
export type ApiTokenCreated = z.infer<typeof ApiTokenCreatedSchema>;

/** A site as operators and researchers see it. */
export const SiteViewSchema = z.object({
  id,
  name: z.string(),
  fingerprint: z.string(),
  enrolledAt: iso,
  revokedAt: iso.nullable(),
  lastSeenAt: iso.nullable(),
  missedRounds: z.number().int(),
});
export type SiteView = z.infer<typeof SiteViewSchema>;

export const FederationStateSchema = z.enum(['running', 'completed', 'failed', 'stopped']);
export type FederationState = z.infer<typeof FederationStateSchema>;

export const RoundStateSchema = z.enum(['open', 'collecting', 'aggregating', 'published', 'failed']);
export type RoundState = z.infer<typeof RoundStateSchema>;

/** A federation's summary. */
export const FederationViewSchema = z.object({
  id,
  name: z.string(),
  /** The study the federation belongs to. */
  studyId: id,
  state: FederationStateSchema,
  plan: PlanSchema,
  /** The coordinator's signed statement of the plan's digest (`envelope/signed-plan`); sites refuse a plan without it. */
  signedPlan: SignedPlanSchema.optional(),
  currentRound: z.number().int(),
  latestVersionId: id.nullable(),
  createdAt: iso,
  updatedAt: iso,
});
export type FederationView = z.infer<typeof FederationViewSchema>;

/** What names a round: its federation and number. */
const roundKey = { federationId: id, round: z.number().int() };

/** One round's public state. */
export const RoundViewSchema = z.object({
  ...roundKey,
  state: RoundStateSchema,
  baseVersionId: id,
  /** Sites see only themselves here unless the plan sets `privacy.shareContributorsWithSites`; operators and researchers see all. */
  selectedSiteIds: z.array(id),
  /** How many sites the round selected. */
  selectedCount: z.number().int().min(0),
  received: z.number().int(),
  openedAt: iso,
  deadlineAt: iso,
  closedAt: iso.nullable(),
  failureReason: z.string().nullable(),
  versionId: id.nullable(),
});
export type RoundView = z.infer<typeof RoundViewSchema>;

/** Round instructions a site needs besides the plan's training settings, set by the federation's strategy (empty for most). */
export const ClientConfigSchema = z.object({
  /** FedProx: add (mu/2)·‖w − w_round_start‖² to the local loss. */
  proximalMu: z.number().optional(),
  /**
   * SCAFFOLD (FLamby's efficient variant): the site keeps its own control variate c_i and, at the start
   * of each round, updates c_i ← c_i + (x_server − y_i,prev) / (serverLr · clientLr · localSteps), where
   * y_i,prev = serverLr·y_i + (1 − serverLr)·x_prev is its previous round's model scaled the way FLamby
   * scales it. The site uploads its raw trained weights y_i: the server applies serverLr itself.
   */
  scaffold: z.object({ serverLr: z.number() }).optional(),
});
export type ClientConfig = z.infer<typeof ClientConfigSchema>;

/** GET …/rounds/current (site): what this site should do now. Studies scope what operators and researchers see; a site's round instructions carry none. */
export const CurrentRoundSchema = z.object({
  federation: FederationViewSchema.omit({ studyId: true }),
  round: RoundViewSchema.nullable(),
  selected: z.boolean(),
  submitted: z.boolean(),
  clientConfig: ClientConfigSchema,
});
export type CurrentRound = z.infer<typeof CurrentRoundSchema>;

/** Acknowledgement of an upload, sent only once the envelope is durable. */
export const UploadAckSchema = z.object({
  ...roundKey,
  siteId: id,
  digest: z.string(),
  status: z.enum(['accepted', 'duplicate']),
  receivedAt: iso,
});
export type UploadAck = z.infer<typeof UploadAckSchema>;

/** POST /v1/models/:id/evaluations (site): metrics of a version on the site's own held-out rows. */
/**
 * The range of each evaluation metric with a known meaning (what sites report: accuracy, AUC, log loss, Brier score,
 * Harrell's C-index of a Cox model, and the usual rates); a metric under another name need only be finite. A report outside these ranges is refused.
 */
export const EVALUATION_METRIC_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  accuracy: [0, 1],
  auc: [0, 1],
  brier: [0, 1],
  precision: [0, 1],
  recall: [0, 1],
  sensitivity: [0, 1],
  specificity: [0, 1],
  f1: [0, 1],
  cIndex: [0, 1],
  loss: [0, Number.POSITIVE_INFINITY],
};

/** Fallback bound of an evaluation's `n` when the plan sets no per-site maximum of examples. */
const DEFAULT_MAX_EVALUATION_EXAMPLES = 1_000_000;

/**
 * The most examples a site's evaluation of a version may claim: the plan's per-site maximum of examples
 * (`training.maxExamplesPerSite`) when the plan has one, {@link DEFAULT_MAX_EVALUATION_EXAMPLES} otherwise.
 */
export function maxEvaluationExamples(plan: Pick<Plan, 'training'>): number {
  return plan.training.maxExamplesPerSite ?? DEFAULT_MAX_EVALUATION_EXAMPLES;
}

export const EvaluationReportSchema = z
  .object({ n: z.number().int().min(0).max(1e9), metrics: metricRecord, calibration: CalibrationSchema.optional() })
  .strict()
  .superRefine((r, ctx) => {
    if (r.calibration && r.calibration.bins.reduce((a, b) => a + b.n, 0) !== r.n)
      ctx.addIssue({ code: 'custom', path: ['calibration', 'bins'], message: 'the bin counts must sum to n' });
    for (const [name, value] of Object.entries(r.metrics)) {
      const range = Object.prototype.hasOwnProperty.call(EVALUATION_METRIC_RANGES, name)
        ? EVALUATION_METRIC_RANGES[name]
        : undefined;
      if (range && (value < range[0] || value > range[1])) {
        ctx.addIssue({
          code: 'custom',
          path: ['metrics', name],
          message: `${name} must be within [${range[0]}, ${range[1]}]`,
        });
      }
    }
  });
export type EvaluationReport = z.infer<typeof EvaluationReportSchema>;

/** An evaluation as stored. */
export const EvaluationViewSchema = z.object({
  versionId: id,
  siteId: id,
  n: z.number().int(),
  metrics: z.record(z.string(), z.number()),
  calibration: CalibrationSchema.optional(),
  createdAt: iso,
});
export type EvaluationView = z.infer<typeof EvaluationViewSchema>;

/** POST /v1/population/reports: the stored report's key. */
export const PopulationReportAckSchema = z.object({ versionId: id, siteId: id, createdAt: iso });
export type PopulationReportAck = z.infer<typeof PopulationReportAckSchema>;

/** A published, signed model version as the coordinator serves it (`GET /v1/models[/:vid]`); extra fields pass through. */
export const ModelVersionViewSchema = z.looseObject({
  id,
  federationId: id,
  parentVersionId: id.nullable(),
  round: z.number().int(),
  /** Lowercase hex sha256 of the weights binary served at `GET /v1/models/:vid/weights`. */
  weightsSha256: z.string().regex(/^[0-9a-f]{64}$/, 'lowercase hex sha256'),
  /** The coordinator's Ed25519 signature over `meta` (base64). */
  signature: z.string().min(1),
  createdAt: iso,
  /** Strategy, contributing sites, metrics, DP ε … as the coordinator signed them: untrusted until verified against the pinned key. */
  meta: z.record(z.string(), z.unknown()).default({}),
});
export type ModelVersionView = z.infer<typeof ModelVersionViewSchema>;

/** GET /v1/federations/:fid/evaluations: each version of a federation (publication order) with the sites' evaluations of it (by site). */
export const FederationEvaluationsSchema = z.object({
  federationId: id,
  versions: z.array(
    z.object({ versionId: id, round: z.number().int(), createdAt: iso, evaluations: z.array(EvaluationViewSchema) }),
  ),
});
export type FederationEvaluations = z.infer<typeof FederationEvaluationsSchema>;

const releasedCount = z.number().int().min(0).nullable();

/** GET /v1/population: the consortium-wide roll-up of sites' k-suppressed population reports. */
export const PopulationViewSchema = z.object({
  federationId: z.string().nullable(),
  versionIds: z.array(z.string()),
  sites: z.array(
    z.object({
      siteId: z.string(),
      name: z.string(),
      versionId: z.string(),
      at: z.string(),
      k: z.number().int(),
      epsilon: z.number().nullable(),
      total: releasedCount,
      byTier: z.array(z.object({ tier: z.string(), count: releasedCount })),
      highRisk: releasedCount,
    }),
  ),
  tiers: z.array(z.object({ tier: z.string(), count: z.number().int(), suppressedSites: z.number().int() })),
  cells: z.array(
    z.object({ tier: z.string(), ageBand: z.string(), count: z.number().int(), suppressedSites: z.number().int() }),
  ),
  ranking: z.array(z.object({ rank: z.number().int(), siteId: z.string(), name: z.string(), highRisk: releasedCount })),
});
export type PopulationView = z.infer<typeof PopulationViewSchema>;

/** Base64 of a masked ring vector (up to the JSON body limit). */
const maskedB64 = z
  .string()
  .min(1)
  .max(1_400_000)
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64');

/**
 * Ring elements of the normalisation statistics of `features` model inputs: the row count n, then Σx per feature,
 * then Σx² per feature (each site's train rows; the secure sum adds them over the cohort).
 */
export function normalizationStatsLength(features: number): number {
  return 1 + 2 * features;
}

/**
 * A member of a cohort (the statistics secure sum, secure aggregation): a site's enrolled identity keys (base64) as a
 * site directory entry, with the coordinator's signature over it (`signSiteDirectoryEntry`): sites verify it with
 * the pinned coordinator key and pin each peer's keys.
 */
export const CohortMemberSchema = z.object({
  siteId: id,
  boxPublicKey: b64,
  signPublicKey: b64,
  directorySignature: b64,
});
export type CohortMember = z.infer<typeof CohortMemberSchema>;

/**
 * GET /v1/federations/:fid/stats (site): the secure sum of a federation with `data.normalization: 'federated'`.
 * The cohort is the sites enrolled (and not revoked) when the federation was created; each posts one masked vector
 * of `length` ring elements (see `maskContribution`, context {@link normalizationStatsContext}). `sum` is the ring
 * sum (base64, little-endian uint64s) once every member has contributed, else null: masks cancel only in the full sum.
 */
export const StatsSessionSchema = z.object({
  federationId: id,
  length: z.number().int().min(1).max(200_001),
  fractionBits: z.number().int().min(0).max(40),
  cohort: z.array(CohortMemberSchema),
  contributed: z.array(id),
  sum: maskedB64.nullable(),
});
export type StatsSession = z.infer<typeof StatsSessionSchema>;

/** POST /v1/federations/:fid/stats (site): this site's masked contribution. Idempotent for the same bytes. */
export const StatsContributionSchema = z.object({ masked: maskedB64 }).strict();
export type StatsContribution = z.infer<typeof StatsContributionSchema>;

/** Answer to a contribution. */
export const StatsAckSchema = z.object({
  federationId: id,
  siteId: id,
  status: z.enum(['accepted', 'duplicate']),
  contributed: z.number().int(),
  cohort: z.number().int(),
});
export type StatsAck = z.infer<typeof StatsAckSchema>;

/**
 * GET /v1/federations/:fid/baseline (site): the secure sum of a Cox federation's Breslow baseline (cox-baseline.ts),
 * open once its last round is published. `versionId` is the final model whose risk scores the sites use; `grid` the
 * public bin edges; the cohort is the sites that contributed to that version. `state`: `collecting` until every
 * member posted its masked vector or `deadlineAt` passes, then `published` (the signed baseline version
 * `baselineVersionId`) or `failed` (no baseline: a member did not take part in time, or the cohort is under
 * max(3, minSites)). `sum` is the ring sum once complete, else null.
 */
export const BaselineSessionSchema = z.object({
  federationId: id,
  versionId: id,
  state: z.enum(['collecting', 'published', 'failed']),
  grid: z.array(z.number().positive()).min(1).max(1_000),
  length: z.number().int().min(2).max(2_000),
  fractionBits: z.number().int().min(0).max(40),
  cohort: z.array(CohortMemberSchema),
  contributed: z.array(id),
  deadlineAt: z.iso.datetime(),
  baselineVersionId: id.nullable(),
  sum: maskedB64.nullable(),
});
export type BaselineSession = z.infer<typeof BaselineSessionSchema>;

/**
 * GET /v1/federations/:fid/normalization (operator, researcher): the pooled z-score statistics of a federation with
 * `data.normalization: 'federated'`, decoded from the completed secure sum (the aggregate every site trains with;
 * no single site's numbers). `ready` with rows/mean/std once every cohort member contributed, else `waiting`.
 */
export const NormalizationViewSchema = z.object({
  federationId: id,
  state: z.enum(['ready', 'waiting']),
  contributed: z.number().int().min(0),
  cohort: z.number().int().min(0),
  rows: z.number().int().min(0).nullable(),
  mean: z.array(z.number()).nullable(),
  std: z.array(z.number()).nullable(),
});
export type NormalizationView = z.infer<typeof NormalizationViewSchema>;

/** The secure-sum context of a federation's normalisation statistics (binds the pairwise masks to it). */
export function normalizationStatsContext(federationId: string): string {
  return `${federationId}/normalization-stats`;
}
