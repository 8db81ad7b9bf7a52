/**
 * @twinfed/shared — the contract between twinfed's coordinator, site clients, operators and researchers:
 * protocol constants, zod schemas of every message, socket.io event maps, error codes, weight
 * serialisation, crypto, model layouts and seeded randomness.
 *
 * The public surface is explicit: a name is exported here only when another workspace imports it
 * (tests/src/hygiene/public-surface.test.ts checks both ways). Everything else stays module-internal.
 */
// Errors, protocol constants, socket.io event maps, model layouts, seeded randomness, printable names, the logger
export {
  ERROR_CODES,
  type ErrorCode,
  HTTP_ERROR_CODES,
  type HttpErrorCode,
  httpStatus,
  isErrorCode,
  isTwinfedError,
  LOCAL_ERROR_CODES,
  TwinfedError,
} from './errors';
export {
  behaviourOf,
  CLIENT_BEHAVIOURS,
  type ClientBehaviour,
  clientBehaviour,
  type CodeWithBehaviour,
  hasBehaviour,
  isFatal,
  refusesRequest,
} from './client-behaviour';
export type {
  ClientToServerEvents,
  FederationEndedEvent,
  ModelPublishedEvent,
  RoundFailedEvent,
  RoundOpenedEvent,
  SecaggPhaseEvent,
  ServerToClientEvents,
  SocketData,
} from './events';
export { createLogger, type Logger, silentLogger } from './logger';
export {
  baselineContext,
  baselineEvents,
  baselineFromSums,
  baselineGrid,
  baselineVector,
  baselineVectorLength,
  type GridBaseline,
} from './cox-baseline';
export { type CoxModelSpec, initialWeights, isCoxModel, layoutOf, type ModelSpec, ModelSpecSchema } from './model-spec';
export { normalizationFromSums } from './normalization';
export {
  COHORT_POOL_MIN_SITES,
  cohortPoolContext,
  cohortPoolLength,
  cohortPoolVector,
  poolsSecurely,
  poolTotals,
  withoutSummaries,
} from './cohort-pool';
export { printable, printableJson } from './printable';
export { exitQuietlyOnClosedPipe } from './closed-pipe';
export { BINARY_MEDIA_TYPE, DEFAULT_COORDINATOR_PORT, limits, PROTOCOL_VERSION, SITE_NAMESPACE } from './protocol';

// The REST API, each endpoint defined once; routes, clients, the dashboard's paths and the OpenAPI document derive from it
export { type Api, api } from './api/contract';
export {
  type BodyKind,
  type BodyOf,
  type Call,
  callOf,
  errorCodesOf,
  type Method,
  METHODS,
  type Operation,
  pathOf,
  type ResponseOf,
  responseSchema,
  type Role,
} from './api/endpoint';
export { openApiDocument } from './api/openapi';
export { pathPatterns, routes } from './api/routes';
export { SeededRandom } from './random';

// Tamper-evident audit logs: hash chain, signed heads, trails
export {
  AUDIT_GENESIS,
  type AuditBreak,
  AuditChainVerifier,
  type AuditEntryBody,
  auditEntryHash,
  chainAuditEntry,
  type ChainedAuditEntry,
} from './audit/chain';
export {
  type AuditListResponse,
  AuditListResponseSchema,
  type AuditVerifyReport,
  AuditVerifyReportSchema,
} from './audit/schemas';
export { type AuditHeadPayload, signAuditHead, type SignedAuditHead, verifyAuditHead } from './audit/signed-head';
export { verifyAuditTrail } from './audit/trail';

// Authentication of site → coordinator traffic: signed or MAC'd requests and socket handshakes, enrollment proofs
export { signEnrollProof, verifyEnrollProof } from './auth/enroll-proof';
export { macHandshake, parseHandshake, signHandshake, verifyHandshake } from './auth/handshake';
export {
  assertFresh,
  CONTENT_SHA256_HEADER,
  MAC_HEADER,
  NONCE_HEADER,
  nonceExpiresAt,
  readSiteAuth,
  SIGNATURE_HEADER,
  type SiteAuth,
  SITE_HEADER,
  TIMESTAMP_HEADER,
} from './auth/headers';
export {
  canonicalMacRequest,
  coordinatorRequestMacKey,
  macOf,
  macRequest,
  type RequestMacKey,
  siteRequestMacKey,
  verifyRequestMac,
} from './auth/request-mac';
export { canonicalRequest, signRequest, verifyRequest } from './auth/request-signing';

// Self-describing model bundles: manifest, TensorFlow.js layers artifacts, writing, reading, offline verification
export { buildBundle, openBundle, writeBundle } from './bundle/files';
export { LAYERS_SHARD_FILE, layersModelJson, layersShard } from './bundle/layers-model';
export type { BundleManifest, StatisticsInput } from './bundle/manifest';
export { type BundleTrust, type VerifiedBundle, verifyBundle } from './bundle/verify';

// Cryptography: identities, signatures, boxes, key files, tokens, secure sums, secure aggregation
export { newBoxNonce, openBox, sealBox } from './crypto/box';
export { concatBytes, fromB64, toB64, utf8 } from './crypto/encoding';
export { randomBytes, sha256, sha256Hex, sha256Parts } from './crypto/hash';
export { decodePublicIdentity, fingerprint, generateIdentity, type Identity, publicPart } from './crypto/identity';
export { identityPath, loadIdentity, loadOrCreateIdentity, saveIdentity } from './crypto/key-file';
export {
  addRing64,
  decodeRing64,
  encodeRing64,
  expandRing64,
  fromBytesRing64,
  type Ring64,
  Ring64Sum,
  ringToBytes64,
  subRing64,
} from './crypto/ring64';
export { wasmApi } from './wasm-api';
export {
  assertSecaggCohort,
  maskKeyPair,
  maskRing64,
  maskUpdate,
  openShares,
  recoverMaskSecretKey,
  recoverSelfMaskSeed,
  SECAGG_FRACTION_BITS,
  SECAGG_VERSION,
  secaggPairKey,
  type SecaggRound,
  secaggThreshold,
  selfMaskCommitment,
  selfMaskSeed,
  shareSecrets,
  unmaskSum,
} from './crypto/secagg';
export { secaggConsistencyMac, verifySecaggConsistencyMac } from './crypto/secagg-mac';
export {
  DEFAULT_SECAGG_GRAPH,
  type SecaggGraph,
  secaggGraph,
  type SecaggGraphOptions,
  secaggGraphParameters,
} from './crypto/secagg-graph';
export {
  decodeSecaggSum,
  encodeSecaggInput,
  SECAGG_HEADER_EXAMPLES,
  SECAGG_MAX_EXAMPLES,
  type SecaggSum,
  secaggVectorLength,
} from './crypto/secagg-payload';
export { assertStatsCohort } from './crypto/secure-sum-cohort';
export {
  decodeSecureSum,
  maskContribution,
  ringFromBytes,
  SECURE_SUM_FRACTION_BITS,
  sumMaskedContributions,
} from './crypto/secure-sum';
export { signDigest } from './crypto/signature';
export { generateToken, hashToken } from './crypto/token';
export { cryptoUniform, type Uniform } from './crypto/uniform';

// Differential privacy accounting
export { gaussianDpEpsilon } from './dp/gaussian-accountant';
export { type DdpParameters } from './dp/distributed';
export { ddpMeanNoiseStd, decodeDdpSum, encodeDdpUpdate } from './dp/ddp-codec';

// Wire envelopes: canonical JSON, encrypted and signed updates, signed model versions, plans and secure-aggregation statements
export { canonicalJson } from './envelope/canonical-json';
export {
  type Contributor,
  type CoxBaseline,
  CoxBaselineSchema,
  countOnlyMeta,
  FullModelVersionMetaSchema,
  type ModelVersionMeta,
  planDigest,
  signModelVersion,
  verifyModelVersion,
} from './envelope/model-version';
export {
  decodeRoundDownload,
  decodeSignedDownload,
  roundDownloadHead,
  signedDownloadHead,
  type SignedDownload,
} from './envelope/signed-download';
export {
  secaggCohortDigest,
  secaggConsistencyDigest,
  secaggNeighbourhoodDigest,
  secaggNeighbourhoodStatement,
  shareBoxesDigest,
  signSecaggConsistency,
  signSecaggKeys,
  signSecaggNeighbourhood,
  verifySecaggConsistency,
  verifySecaggDigest,
  verifySecaggKeys,
  verifySecaggNeighbourhood,
} from './envelope/secagg-statements';
export { SignedPlanMemo, signPlan, verifySignedPlan, type SignedPlan } from './envelope/signed-plan';
export { signSiteDirectoryEntry, verifySiteDirectoryEntry } from './envelope/site-directory';
export {
  neighbourhoodDirectoryDigest,
  signNeighbourhoodDirectory,
  verifyNeighbourhoodDirectory,
} from './envelope/neighbourhood-directory';
export {
  openCrossSiteModel,
  sealCrossSiteModel,
  signCrossSiteMatrix,
  verifyCrossSiteMatrix,
} from './envelope/cross-site';
export {
  openMaskedUpdate,
  openUpdate,
  parseUpdate,
  sealMaskedUpdate,
  sealUpdate,
  updateDigest,
  verifyUpdateSignature,
} from './envelope/update-envelope';
export type { UpdateHeader, UpdateHeaderInput } from './envelope/update-header';

// Outbound connections: secure URLs, TLS client
export { envFlag, requireSecureUrl } from './net/secure-url';
export { createFetch, readCaFile, tlsFailure, tlsFailureCode } from './net/tls-client';

// zod schemas of every message: plan, features, population, API bodies, secure aggregation
export {
  type ApiTokenCreated,
  type ApiTokenView,
  type ClientConfig,
  type CohortMember,
  type CoordinatorKeys,
  type CreateApiToken,
  CreateApiTokenSchema,
  CreateFederationSchema,
  type CreateInvitation,
  CreateInvitationSchema,
  type CreateStudy,
  CreateStudySchema,
  type BaselineSession,
  type CurrentRound,
  DEFAULT_STUDY_ID,
  type EnrollRequest,
  CurrentRoundSchema,
  EnrollRequestSchema,
  type EnrollResponse,
  type EvaluationReport,
  EvaluationReportSchema,
  maxEvaluationExamples,
  type EvaluationView,
  type FederationEvaluations,
  type FederationState,
  type FederationView,
  ID_RE,
  IdSchema,
  type InvitationResponse,
  normalizationStatsContext,
  normalizationStatsLength,
  type NormalizationView,
  NormalizationViewSchema,
  type PopulationView,
  type RoundState,
  type RoundView,
  type SiteView,
  type StatsAck,
  type StatsContribution,
  StatsContributionSchema,
  type StatsSession,
  StatsSessionSchema,
  type StudyView,
  type UploadAck,
  type ModelVersionView,
} from './schemas/api';
export {
  type CodeSet,
  DAY_MS,
  DEFAULT_RISK_TIERS,
  type EventSource,
  type FeatureColumn,
  featureColumns,
  type FeatureDerivation,
  type FeatureDerivationInput,
  FeatureDerivationSchema,
  featureNames,
  type LabelDerivation,
  LabelDerivationSchema,
  type RiskTiers,
  tierOf,
} from './schemas/features';
export {
  decisionOnPlan,
  type OfferedFederation,
  type PlanDecision,
  PlanAmendmentSchema,
  SiteDecisionRequestSchema,
  type SiteDecisionState,
  type SiteDecisionView,
} from './schemas/governance';
export { inputJsonSchema, type JsonSchema, planJsonSchema } from './schemas/plan-json-schema';
export {
  DATA_RULES,
  DataSchema,
  DEFAULT_MIN_EXAMPLES_PER_SITE,
  type DpMechanism,
  dpMechanism,
  MAX_DP_NOISE_MULTIPLIER,
  maxExamplesPerSite,
  MIN_DP_NOISE_MULTIPLIER,
  type Normalization,
  type Plan,
  PLAN_RULES,
  planDdpParameters,
  planEpsilon,
  planEpsilonAfter,
  type PlanInput,
  planSecaggGraph,
  PlanSchema,
  requiresApprovals,
  sharesContributorsWithSites,
  type StrategyConfig,
  type StrategyName,
  StrategySchema,
  type TrainingConfig,
} from './schemas/plan';
export { clientTermsFor } from './strategies/registry';
export {
  type CohortAnswer,
  type CohortCell,
  type CohortGroupBy,
  COHORT_CSV_LABEL,
  COHORT_REFUSALS,
  COHORT_TWIN_AGE,
  type CohortRefusalReason,
  type CohortSummary,
  type CohortAnswerAck,
  CohortAnswerSchema,
  type CohortPoolAck,
  type CohortPoolContribution,
  CohortPoolContributionSchema,
  type CohortPooled,
  type CohortPoolResult,
  type CohortPoolView,
  type CohortQuery,
  type CohortQueryInput,
  CohortQuerySchema,
  type CohortQueryView,
  type CohortResult,
  type CohortTable,
  COHORT_MIN_K,
  cohortGrid,
  cohortQueryFeatures,
  type CreateCohortQuery,
  levelIndex,
  CreateCohortQuerySchema,
  type SiteCohortQuery,
} from './schemas/cohort';
export {
  ageBandNames,
  ageBandOf,
  DEFAULT_MIN_CELL,
  type PopulationReport,
  PopulationReportSchema,
  PopulationSettingsSchema,
} from './schemas/population';
export { CALIBRATION_BINS, type Calibration, CalibrationSchema } from './schemas/calibration';
export { type PrivacyLedger, type PrivacySpend, type SitePrivacyLedger } from './schemas/privacy-ledger';
export {
  type CrossSiteAck,
  type CrossSiteAnswer,
  CrossSiteAnswerSchema,
  type CrossSiteMatrix,
  type CrossSiteResult,
  CrossSiteResultSchema,
  type CrossSiteSession,
  type CrossSiteView,
  type SignedCrossSiteMatrix,
} from './schemas/cross-site';
export {
  type SecaggAck,
  type SecaggConsistency,
  SecaggConsistencySchema,
  type SecaggReveal,
  SecaggRevealSchema,
  type SecaggShares,
  SecaggSharesSchema,
  type SecaggState,
  type SecaggStateSection,
  type SecaggStateView,
  SECAGG_STATE_SECTIONS,
  secaggStateSections,
  withoutSecaggSections,
} from './schemas/secagg';

// Weight sets: layouts and the binary wire format
export { deserializeWeights, serializeWeights } from './weights/serialize';
export { type Layout, layoutSize, sameLayout, type WeightSet } from './weights/types';
export { type RecalibrationParams } from './schemas/recalibration';
export { type RecalibrationSession, RecalibrationSessionSchema } from './schemas/recalibration-api';
export {
  fitRecalibration,
  logitHistogram,
  recalibrated,
  recalibrationContext,
  recalibrationStatsLength,
} from './recalibration';
