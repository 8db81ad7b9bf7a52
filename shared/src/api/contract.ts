/**
 * The coordinator's REST API, each endpoint defined once: path, method, roles, request (body kind and schema, query),
 * response (status and schema) and the error codes its handler answers with. The coordinator's route table, the
 * site and admin clients, the dashboard's paths, the route × role test and the OpenAPI document (`GET /openapi.json`,
 * docs/openapi.json) are all derived from this table. To add an endpoint: add it here, map it to a handler in
 * coordinator/src/http/route-table.ts (the compiler asks for it), then `npm run docs`.
 */
import { z } from 'zod';
import { AuditListResponseSchema, AuditVerifyReportSchema } from '../audit/schemas';
import { SignedAuditHeadSchema } from '../audit/signed-head';
import {
  OfferedFederationSchema,
  PlanAmendmentSchema,
  SiteDecisionRequestSchema,
  SiteDecisionViewSchema,
} from '../schemas/governance';
import { PopulationReportSchema } from '../schemas/population';
import { RecalibrationSessionSchema } from '../schemas/recalibration-api';
import { PrivacyLedgerSchema } from '../schemas/privacy-ledger';
import {
  CrossSiteAckSchema,
  CrossSiteAnswerSchema,
  CrossSiteResultSchema,
  CrossSiteSessionSchema,
  CrossSiteViewSchema,
} from '../schemas/cross-site';
import {
  CohortAnswerAckSchema,
  CohortAnswerSchema,
  CohortPoolAckSchema,
  CohortPoolContributionSchema,
  CohortPoolViewSchema,
  CohortQueryViewSchema,
  CohortResultSchema,
  CreateCohortQuerySchema,
  SiteCohortQuerySchema,
} from '../schemas/cohort';
import {
  SecaggAckSchema,
  SecaggConsistencySchema,
  SecaggRevealSchema,
  SecaggSharesSchema,
  SecaggStateQuerySchema,
  SecaggStateSchema,
} from '../schemas/secagg';
import {
  ApiTokenCreatedSchema,
  ApiTokenViewSchema,
  CoordinatorKeysSchema,
  CreateApiTokenSchema,
  CreateFederationSchema,
  CreateInvitationSchema,
  CreateStudySchema,
  CurrentRoundSchema,
  EmptyBodySchema,
  EnrollRequestSchema,
  EnrollResponseSchema,
  EvaluationReportSchema,
  EvaluationViewSchema,
  FederationEvaluationsSchema,
  FederationViewSchema,
  IdSchema,
  InvitationResponseSchema,
  ModelVersionViewSchema,
  NormalizationViewSchema,
  PopulationReportAckSchema,
  PopulationViewSchema,
  RoundViewSchema,
  SiteViewSchema,
  BaselineSessionSchema,
  StatsAckSchema,
  StatsContributionSchema,
  StatsSessionSchema,
  StudyViewSchema,
  UploadAckSchema,
} from '../schemas/api';
import type { HttpErrorCode } from '../errors';
import type { Operation, Resource, ResponseSpec, Role } from './endpoint';

const READERS = ['operator', 'researcher'] as const satisfies readonly Role[];
const PUBLIC = ['public'] as const satisfies readonly Role[];
const SITE = ['site'] as const satisfies readonly Role[];
const OPERATOR = ['operator'] as const satisfies readonly Role[];

const none = { body: 'none' } as const;
const jsonBody = <S extends z.ZodType>(schema: S) => ({ body: 'json', schema }) as const;
const query = <S extends z.ZodObject>(schema: S) => ({ body: 'none', query: schema }) as const;
const ok = <S extends z.ZodType>(schema: S) => ({ kind: 'json', status: [200], schema }) as const;
const created = <S extends z.ZodType>(schema: S) => ({ kind: 'json', status: [201], schema }) as const;
/** Idempotent submissions: 201 when stored, 200 when the same bytes were already stored. */
const stored = <S extends z.ZodType>(schema: S) => ({ kind: 'json', status: [201, 200], schema }) as const;
const op = <const O extends Operation>(o: O): O => o;

/** The path parameters of every pattern below, as the coordinator accepts them. */
export const PATH_PARAMETERS: Readonly<Record<string, z.ZodType>> = {
  fid: IdSchema,
  vid: IdSchema,
  siteId: IdSchema,
  tokenId: IdSchema,
  studyId: IdSchema,
  qid: IdSchema,
  round: z.int().min(1).max(999_999_999),
  asset: z.string().min(1).max(64),
};

const FEDERATION: readonly HttpErrorCode[] = ['NOT_FOUND', 'UNKNOWN_FEDERATION'];
const MEMBER: readonly HttpErrorCode[] = [...FEDERATION, 'NOT_A_MEMBER'];
const ROUND: readonly HttpErrorCode[] = [...MEMBER, 'UNKNOWN_ROUND', 'SITE_NOT_SELECTED', 'FEDERATION_NOT_RUNNING'];
const SECAGG: readonly HttpErrorCode[] = [
  ...ROUND,
  'ROUND_CLOSED',
  'SECAGG_PHASE',
  'SECAGG_INCONSISTENT',
  'SECAGG_COHORT_TOO_SMALL',
  'SECAGG_UNTRUSTED_KEY',
];
const VERSION: readonly HttpErrorCode[] = ['NOT_FOUND', 'UNKNOWN_MODEL_VERSION'];
const READABLE_VERSION: readonly HttpErrorCode[] = [...VERSION, 'UNKNOWN_FEDERATION', 'NOT_A_MEMBER'];

const status = <V extends string>(value: V) => z.object({ status: z.literal(value) });
const list = <K extends string, S extends z.ZodType>(key: K, item: S) =>
  z.object({ [key]: z.array(item) } as { [P in K]: z.ZodArray<S> });

const text = (...mediaTypes: string[]): ResponseSpec => ({ kind: 'text', status: [200], mediaTypes });

/** The REST API, relative to the coordinator's base URL, by resource (one path each) and method. */
export const api = {
  healthz: {
    path: '/healthz',
    get: op({ summary: 'Liveness.', roles: PUBLIC, request: none, response: ok(status('ok')), errors: [] }),
  },
  readyz: {
    path: '/readyz',
    get: op({
      summary:
        'Readiness: the database is writable and the keys are loaded. `push` says how push events reach sites: `local` (this process), `redis` (every replica, through Redis), `degraded` (Redis is away: sites rely on polling).',
      roles: PUBLIC,
      request: none,
      response: ok(status('ready').extend({ push: z.enum(['local', 'redis', 'degraded']) })),
      errors: ['NOT_READY'],
    }),
  },
  metrics: {
    path: '/metrics',
    get: op({
      summary: 'Prometheus metrics.',
      roles: READERS,
      request: none,
      response: text('text/plain; version=0.0.4'),
      errors: [],
    }),
  },
  openapi: {
    path: '/openapi.json',
    get: op({
      summary: 'This API as an OpenAPI 3.1 document.',
      roles: PUBLIC,
      request: none,
      response: ok(z.record(z.string(), z.unknown())),
      errors: [],
    }),
  },
  dashboard: {
    path: '/dashboard',
    get: op({
      summary: "The researchers' read-only web dashboard (static; it reads the API with the researcher's token).",
      roles: PUBLIC,
      request: none,
      response: text('text/html; charset=utf-8'),
      errors: [],
    }),
  },
  dashboardAsset: {
    path: '/dashboard/:asset',
    get: op({
      summary: "A file of the dashboard (scripts, styles, the API's paths).",
      roles: PUBLIC,
      request: none,
      response: text('text/javascript; charset=utf-8', 'text/css; charset=utf-8'),
      errors: ['NOT_FOUND'],
    }),
  },
  coordinatorKeys: {
    path: '/v1/coordinator',
    get: op({
      summary: "The coordinator's public keys and fingerprint.",
      roles: PUBLIC,
      request: none,
      response: ok(CoordinatorKeysSchema),
      errors: [],
    }),
  },
  enroll: {
    path: '/v1/enroll',
    post: op({
      summary: 'Enroll a site with a one-time token and its public keys.',
      roles: PUBLIC,
      request: jsonBody(EnrollRequestSchema),
      response: created(EnrollResponseSchema),
      errors: ['PROTOCOL_MISMATCH', 'ENROLL_PROOF_INVALID', 'INVALID_TOKEN', 'KEY_IN_USE'],
    }),
  },
  siteSelf: {
    path: '/v1/sites/self',
    get: op({
      summary: "The calling site's own record.",
      roles: SITE,
      request: none,
      response: ok(SiteViewSchema),
      errors: ['UNKNOWN_SITE'],
    }),
  },
  sitePrivacy: {
    path: '/v1/sites/self/privacy',
    get: op({
      summary:
        "The calling site's privacy ledger: ε and δ of every federation it contributed an update to, and their basic composition (Σ ε, Σ δ).",
      roles: SITE,
      request: none,
      response: ok(PrivacyLedgerSchema),
      errors: ['UNKNOWN_SITE'],
    }),
  },
  siteFederations: {
    path: '/v1/sites/self/federations',
    get: op({
      summary:
        "The running federations offered to the calling site (it belongs to them: founding cohort or selected), each with the site's decision on the current plan.",
      roles: SITE,
      request: none,
      response: ok(list('federations', OfferedFederationSchema)),
      errors: [],
    }),
  },
  federations: {
    path: '/v1/federations',
    get: op({
      summary: 'Every federation (a researcher: those of its studies).',
      roles: READERS,
      request: none,
      response: ok(list('federations', FederationViewSchema)),
      errors: [],
    }),
    post: op({
      summary: 'Create a federation from a plan.',
      roles: OPERATOR,
      request: jsonBody(CreateFederationSchema),
      response: created(FederationViewSchema),
      errors: ['INVALID_PLAN', 'UNKNOWN_STUDY'],
    }),
  },
  federation: {
    path: '/v1/federations/:fid',
    get: op({
      summary: 'One federation.',
      roles: [...READERS, 'site'],
      request: none,
      response: ok(FederationViewSchema),
      errors: MEMBER,
    }),
  },
  federationPlan: {
    path: '/v1/federations/:fid/plan',
    put: op({
      summary:
        "Replace the plan of a federation whose round 1 has not opened; every site's decision is pending again (decisions are about a plan's hash).",
      roles: OPERATOR,
      request: jsonBody(PlanAmendmentSchema),
      response: ok(FederationViewSchema),
      errors: [...FEDERATION, 'INVALID_PLAN', 'FEDERATION_NOT_RUNNING', 'FEDERATION_STARTED'],
    }),
  },
  federationDecision: {
    path: '/v1/federations/:fid/decision',
    put: op({
      summary:
        "The calling site's decision about the federation's plan, named by its hash: approved, rejected or revoked (idempotent).",
      roles: SITE,
      request: jsonBody(SiteDecisionRequestSchema),
      response: ok(SiteDecisionViewSchema),
      errors: [...MEMBER, 'PLAN_SUPERSEDED', 'FEDERATION_NOT_RUNNING'],
    }),
  },
  federationDecisions: {
    path: '/v1/federations/:fid/decisions',
    get: op({
      summary:
        "Each enrolled, non-revoked site's decision on the federation's current plan (pending when it has none).",
      roles: READERS,
      request: none,
      response: ok(list('decisions', SiteDecisionViewSchema)),
      errors: FEDERATION,
    }),
  },
  rounds: {
    path: '/v1/federations/:fid/rounds',
    get: op({
      summary: "The federation's rounds.",
      roles: READERS,
      request: none,
      response: ok(list('rounds', RoundViewSchema)),
      errors: FEDERATION,
    }),
  },
  federationEvaluations: {
    path: '/v1/federations/:fid/evaluations',
    get: op({
      summary: 'Every version of the federation with the sites\u2019 evaluations of it.',
      roles: READERS,
      request: none,
      response: ok(FederationEvaluationsSchema),
      errors: FEDERATION,
    }),
  },
  currentRound: {
    path: '/v1/federations/:fid/rounds/current',
    get: op({
      summary: 'The round the calling site should work on now, with its instructions.',
      roles: SITE,
      request: none,
      response: ok(CurrentRoundSchema),
      errors: MEMBER,
    }),
  },
  currentRoundDownload: {
    path: '/v1/federations/:fid/rounds/current/download',
    get: op({
      summary:
        "The current round (as `rounds/current` answers it) and, unless the site holds it (`have`), the federation's latest version (the open round's base) in one binary answer: a big-endian u32 length, that many bytes of JSON of the current round, then the version exactly as `GET /v1/models/:vid/download` serves it, or nothing.",
      roles: SITE,
      request: query(z.strictObject({ have: IdSchema.optional() })),
      response: { kind: 'binary', status: [200] },
      errors: [...MEMBER, 'UNKNOWN_MODEL_VERSION'],
    }),
  },
  updates: {
    path: '/v1/federations/:fid/rounds/:round/updates',
    post: op({
      summary:
        "Upload an update envelope (binary; idempotent). Answered once the envelope is durable, with the site's evaluation of the round's base version when its header carries one (`baseEvaluation`).",
      roles: SITE,
      request: { body: 'binary' },
      response: stored(UploadAckSchema),
      errors: [
        ...ROUND,
        'OVERLOADED',
        'ROUND_CLOSED',
        'WRONG_BASE_VERSION',
        'UPDATE_CONFLICT',
        'INVALID_ENVELOPE',
        'DECRYPT_FAILED',
        'INVALID_WEIGHTS',
        'NON_FINITE_WEIGHTS',
        'EXAMPLES_OUT_OF_RANGE',
        'INVALID_BASE_EVALUATION',
        'PROTOCOL_MISMATCH',
      ],
    }),
  },
  secagg: {
    path: '/v1/federations/:fid/rounds/:round/secagg',
    get: op({
      summary:
        "The round's secure aggregation as the calling site sees it; `view=neighbourhood` (sparse graph): only its closed neighbourhood's keys, with the ids of all of S and U2; `have`: without the fixed sections the site already holds (named in `omitted`).",
      roles: SITE,
      request: query(SecaggStateQuerySchema),
      response: ok(SecaggStateSchema),
      errors: ROUND,
    }),
  },
  secaggShares: {
    path: '/v1/federations/:fid/rounds/:round/secagg/shares',
    post: op({
      summary:
        "The site's round mask public key and share boxes (idempotent), with its evaluation of the round's base version when it carries one (`baseEvaluation`).",
      roles: SITE,
      request: jsonBody(SecaggSharesSchema),
      response: stored(SecaggAckSchema),
      errors: [...SECAGG, 'INVALID_BASE_EVALUATION'],
    }),
  },
  secaggConsistency: {
    path: '/v1/federations/:fid/rounds/:round/secagg/consistency',
    post: op({
      summary: "The site's signature over the round as it saw it (idempotent).",
      roles: SITE,
      request: jsonBody(SecaggConsistencySchema),
      response: stored(SecaggAckSchema),
      errors: SECAGG,
    }),
  },
  secaggReveal: {
    path: '/v1/federations/:fid/rounds/:round/secagg/reveal',
    post: op({
      summary: "The site's shares of the survivors' seeds and the dropped sites' mask keys (idempotent).",
      roles: SITE,
      request: jsonBody(SecaggRevealSchema),
      response: stored(SecaggAckSchema),
      errors: SECAGG,
    }),
  },
  federationStats: {
    path: '/v1/federations/:fid/stats',
    get: op({
      summary: 'The secure sum of normalisation statistics: its cohort, who contributed, the sum once complete.',
      roles: SITE,
      request: none,
      response: ok(StatsSessionSchema),
      errors: MEMBER,
    }),
    post: op({
      summary: "The site's masked statistics (idempotent for the same bytes).",
      roles: SITE,
      request: jsonBody(StatsContributionSchema),
      response: stored(StatsAckSchema),
      errors: [...MEMBER, 'ALREADY_EXISTS', 'FEDERATION_NOT_RUNNING'],
    }),
  },
  federationBaseline: {
    path: '/v1/federations/:fid/baseline',
    get: op({
      summary:
        "A Cox federation's secure sum of its Breslow baseline: the final version, grid, cohort, who contributed, the sum once complete.",
      roles: SITE,
      request: none,
      response: ok(BaselineSessionSchema),
      errors: [...MEMBER, 'BAD_REQUEST'],
    }),
    post: op({
      summary: "The site's masked event counts and risk-set sums on the grid (idempotent for the same bytes).",
      roles: SITE,
      request: jsonBody(StatsContributionSchema),
      response: stored(StatsAckSchema),
      errors: [...MEMBER, 'BAD_REQUEST', 'ALREADY_EXISTS', 'FEDERATION_NOT_RUNNING'],
    }),
  },
  crossSite: {
    path: '/v1/federations/:fid/cross-site',
    get: op({
      summary:
        'The cross-site evaluation of a completed federation (plan `crossSiteEvaluation`): its progress, and once complete the matrix signed by the coordinator (the global and each local model × each site’s test data).',
      roles: READERS,
      request: none,
      response: ok(CrossSiteViewSchema),
      errors: [...FEDERATION, 'CROSS_SITE_NOT_PLANNED'],
    }),
  },
  crossSiteSession: {
    path: '/v1/federations/:fid/cross-site/session',
    get: op({
      summary:
        'The cross-site evaluation as the calling site sees it: phase, deadlines, the candidates’ signed keys, and the local models sealed to it (ciphertext) while it has to evaluate them.',
      roles: SITE,
      request: none,
      response: ok(CrossSiteSessionSchema),
      errors: [...MEMBER, 'CROSS_SITE_NOT_PLANNED', 'CROSS_SITE_PHASE'],
    }),
  },
  crossSiteAnswer: {
    path: '/v1/federations/:fid/cross-site/answer',
    post: op({
      summary:
        "The calling site's answer in the models phase: its local-only model sealed to every candidate site, or its refusal (idempotent).",
      roles: SITE,
      request: jsonBody(CrossSiteAnswerSchema),
      response: stored(CrossSiteAckSchema),
      errors: [...MEMBER, 'CROSS_SITE_NOT_PLANNED', 'CROSS_SITE_PHASE', 'FORBIDDEN', 'ALREADY_EXISTS'],
    }),
  },
  crossSiteResults: {
    path: '/v1/federations/:fid/cross-site/results',
    post: op({
      summary:
        "The calling site's metrics of the global and every participant's local model on its test rows, or its withheld column (idempotent).",
      roles: SITE,
      request: jsonBody(CrossSiteResultSchema),
      response: stored(CrossSiteAckSchema),
      errors: [...MEMBER, 'CROSS_SITE_NOT_PLANNED', 'CROSS_SITE_PHASE', 'FORBIDDEN', 'ALREADY_EXISTS'],
    }),
  },
  federationRecalibration: {
    path: '/v1/federations/:fid/recalibration',
    get: op({
      summary:
        "The federation's recalibration (plan option): its state, cohort, who contributed, the fitted parameters and the recalibrated version.",
      roles: [...READERS, 'site'],
      request: none,
      response: ok(RecalibrationSessionSchema),
      errors: [...MEMBER, 'BAD_REQUEST'],
    }),
    post: op({
      summary: "The site's masked histogram of the final version's held-out log-odds (idempotent for the same bytes).",
      roles: SITE,
      request: jsonBody(StatsContributionSchema),
      response: stored(StatsAckSchema),
      errors: [
        ...MEMBER,
        'BAD_REQUEST',
        'FORBIDDEN',
        'ALREADY_EXISTS',
        'RECALIBRATION_CLOSED',
        'SECAGG_COHORT_TOO_SMALL',
        'VALIDATION_FAILED',
      ],
    }),
  },
  normalization: {
    path: '/v1/federations/:fid/normalization',
    get: op({
      summary: 'The pooled normalisation statistics of a federated-normalisation federation.',
      roles: READERS,
      request: none,
      response: ok(NormalizationViewSchema),
      errors: FEDERATION,
    }),
  },
  models: {
    path: '/v1/models',
    get: op({
      summary: 'Model versions, of every federation or of one (a researcher: of its studies).',
      roles: READERS,
      request: query(z.object({ federation: IdSchema.optional() })),
      response: ok(list('models', ModelVersionViewSchema)),
      errors: [],
    }),
  },
  model: {
    path: '/v1/models/:vid',
    get: op({
      summary: "One version's signed metadata (sites get the count-only metadata unless the plan shares contributors).",
      roles: [...READERS, 'site'],
      request: none,
      response: ok(ModelVersionViewSchema),
      errors: READABLE_VERSION,
    }),
  },
  modelWeights: {
    path: '/v1/models/:vid/weights',
    get: op({
      summary: 'The weights of a version, binary, with an ETag (their sha256); 304 for a matching If-None-Match.',
      roles: [...READERS, 'site'],
      request: none,
      response: { kind: 'binary', status: [200, 304] },
      errors: READABLE_VERSION,
    }),
  },
  modelDownload: {
    path: '/v1/models/:vid/download',
    get: op({
      summary:
        "A version's signed metadata (as `GET /v1/models/:vid` serves it to the caller) and its weights in one binary answer: a big-endian u32 length, that many bytes of JSON `{meta, signature}`, then the serialised weights.",
      roles: [...READERS, 'site'],
      request: none,
      response: { kind: 'binary', status: [200] },
      errors: READABLE_VERSION,
    }),
  },
  modelEvaluations: {
    path: '/v1/models/:vid/evaluations',
    get: op({
      summary: "The sites' evaluations of a version.",
      roles: READERS,
      request: none,
      response: ok(list('evaluations', EvaluationViewSchema)),
      errors: VERSION,
    }),
    post: op({
      summary: "The site's evaluation of a version on its own held-out rows.",
      roles: SITE,
      request: jsonBody(EvaluationReportSchema),
      response: created(EvaluationViewSchema),
      errors: [...READABLE_VERSION, 'DP_NOT_COVERED'],
    }),
  },
  populationReports: {
    path: '/v1/population/reports',
    post: op({
      summary: "The site's privacy-safe population report (risk tier × age band counts) for a model version.",
      roles: SITE,
      request: jsonBody(PopulationReportSchema),
      response: created(PopulationReportAckSchema),
      errors: ['UNKNOWN_MODEL_VERSION', 'NOT_A_MEMBER'],
    }),
  },
  population: {
    path: '/v1/population',
    get: op({
      summary:
        'The population view across sites, of one federation (default: the latest) or one version (a researcher: of its studies).',
      roles: READERS,
      request: query(z.object({ federation: IdSchema.optional(), version: IdSchema.optional() })),
      response: ok(PopulationViewSchema),
      errors: [],
    }),
  },
  cohortQueries: {
    path: '/v1/cohort-queries',
    get: op({
      summary: 'Federated cohort statistics queries, of every study or of one (newest last).',
      roles: READERS,
      request: query(z.strictObject({ study: IdSchema.optional() })),
      response: ok(list('queries', CohortQueryViewSchema)),
      errors: ['UNKNOWN_STUDY'],
    }),
    post: op({
      summary: 'Ask the sites for cohort statistics of a study (counts and summaries, per site k floor and noise).',
      roles: READERS,
      request: jsonBody(CreateCohortQuerySchema),
      response: created(CohortQueryViewSchema),
      errors: ['UNKNOWN_STUDY'],
    }),
  },
  cohortQuery: {
    path: '/v1/cohort-queries/:qid',
    get: op({
      summary: "A cohort query's answers: each site's table as sent, and the combined table.",
      roles: READERS,
      request: none,
      response: ok(CohortResultSchema),
      errors: ['NOT_FOUND'],
    }),
  },
  cohortAnswers: {
    path: '/v1/cohort-queries/:qid/answers',
    put: op({
      summary: "The site's answer to a cohort query: its released table, or a refusal with a reason (idempotent).",
      roles: SITE,
      request: jsonBody(CohortAnswerSchema),
      response: stored(CohortAnswerAckSchema),
      errors: ['NOT_FOUND', 'ALREADY_EXISTS'],
    }),
  },
  cohortPool: {
    path: '/v1/cohort-queries/:qid/pool',
    get: op({
      summary:
        'The secure pool of a query with `summaries.pooled: "secure"`: its state, its cohort (the signed keys a site masks with), who contributed, and the pooled figures once complete.',
      roles: [...READERS, 'site'],
      request: none,
      response: ok(CohortPoolViewSchema),
      errors: ['NOT_FOUND'],
    }),
    post: op({
      summary: "The site's masked [n, Σx, Σx²] vector for the query's secure pool (idempotent for the same bytes).",
      roles: SITE,
      request: jsonBody(CohortPoolContributionSchema),
      response: stored(CohortPoolAckSchema),
      errors: [
        'NOT_FOUND',
        'COHORT_POOL_NOT_OPEN',
        'COHORT_POOL_NOT_MEMBER',
        'COHORT_POOL_BAD_LENGTH',
        'COHORT_TOO_SMALL',
        'ALREADY_EXISTS',
      ],
    }),
  },
  siteCohortQueries: {
    path: '/v1/sites/self/cohort-queries',
    get: op({
      summary: 'The cohort queries for the calling site: those it has not answered yet, or all of them.',
      roles: SITE,
      request: query(z.strictObject({ state: z.enum(['pending', 'all']).default('pending') })),
      response: ok(list('queries', SiteCohortQuerySchema)),
      errors: [],
    }),
  },
  invitations: {
    path: '/v1/admin/invitations',
    post: op({
      summary: 'Create a one-time enrollment token for a new site (shown once).',
      roles: OPERATOR,
      request: jsonBody(CreateInvitationSchema),
      response: created(InvitationResponseSchema),
      errors: ['ALREADY_EXISTS'],
    }),
  },
  adminSites: {
    path: '/v1/admin/sites',
    get: op({
      summary: 'Every enrolled site (a researcher: the sites that take part in a federation of its studies).',
      roles: READERS,
      request: none,
      response: ok(list('sites', SiteViewSchema)),
      errors: [],
    }),
  },
  privacyLedger: {
    path: '/v1/privacy/ledger',
    get: op({
      summary:
        'The site-level privacy ledger: per site, ε and δ of every federation it contributed to (the ε signed into its latest version) and their basic composition (Σ ε, Σ δ; unbounded when one has no DP). A researcher: its studies\u2019 federations only.',
      roles: READERS,
      request: none,
      response: ok(PrivacyLedgerSchema),
      errors: [],
    }),
  },
  revokeSite: {
    path: '/v1/admin/sites/:siteId/revoke',
    post: op({
      summary: 'Revoke a site.',
      roles: OPERATOR,
      request: jsonBody(EmptyBodySchema),
      response: ok(z.object({ site: SiteViewSchema })),
      errors: ['NOT_FOUND'],
    }),
  },
  audit: {
    path: '/v1/admin/audit',
    get: op({
      summary: 'One page of the audit chain, oldest first.',
      roles: OPERATOR,
      request: query(
        z.strictObject({
          after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      ),
      response: ok(AuditListResponseSchema),
      errors: [],
    }),
  },
  auditHeads: {
    path: '/v1/admin/audit/heads',
    get: op({
      summary: "The coordinator's signed audit heads (one per published version), oldest first.",
      roles: OPERATOR,
      request: none,
      response: ok(list('heads', SignedAuditHeadSchema)),
      errors: [],
    }),
  },
  auditVerify: {
    path: '/v1/admin/audit/verify',
    get: op({
      summary: 'The coordinator verifies its whole chain and signed heads.',
      roles: OPERATOR,
      request: none,
      response: ok(AuditVerifyReportSchema),
      errors: [],
    }),
  },
  tokens: {
    path: '/v1/admin/tokens',
    get: op({
      summary: 'Every researcher and operator bearer token (never their values).',
      roles: OPERATOR,
      request: none,
      response: ok(list('tokens', ApiTokenViewSchema)),
      errors: [],
    }),
    post: op({
      summary: 'Create a researcher or operator bearer token (its value is shown once).',
      roles: OPERATOR,
      request: jsonBody(CreateApiTokenSchema),
      response: created(ApiTokenCreatedSchema),
      errors: ['ALREADY_EXISTS', 'UNKNOWN_STUDY'],
    }),
  },
  revokeToken: {
    path: '/v1/admin/tokens/:tokenId/revoke',
    post: op({
      summary: 'Revoke a bearer token.',
      roles: OPERATOR,
      request: jsonBody(EmptyBodySchema),
      response: ok(ApiTokenViewSchema),
      errors: ['NOT_FOUND'],
    }),
  },
  studies: {
    path: '/v1/studies',
    get: op({
      summary: 'Every study (a researcher: its own).',
      roles: READERS,
      request: none,
      response: ok(list('studies', StudyViewSchema)),
      errors: [],
    }),
    post: op({
      summary: 'Create a study: federations and researcher tokens belong to studies.',
      roles: OPERATOR,
      request: jsonBody(CreateStudySchema),
      response: created(StudyViewSchema),
      errors: ['ALREADY_EXISTS'],
    }),
  },
  study: {
    path: '/v1/studies/:studyId',
    get: op({
      summary: 'One study (a researcher: only its own; any other is `UNKNOWN_STUDY`).',
      roles: READERS,
      request: none,
      response: ok(StudyViewSchema),
      errors: ['NOT_FOUND', 'UNKNOWN_STUDY'],
    }),
  },
} as const satisfies Record<string, Resource>;

/** The API table's type. */
export type Api = typeof api;
