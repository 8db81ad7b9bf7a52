/**
 * Record types of the coordinator store. Times are ISO-8601 UTC strings as produced by
 * `Date.prototype.toISOString()` (the store compares them as strings, so keep that one format);
 * blobs are `Uint8Array`; JSON fields must be JSON-serialisable (they are stored as text).
 * Federation and round states are the shared API enums (`FederationStateSchema`, `RoundStateSchema`).
 */
import type { FederationState, PlanDecision, RoundState } from '@twinfed/shared';

/** A JSON object stored as text (plans, metrics, metadata, client config, audit detail). */
export type JsonObject = Record<string, unknown>;

export type ApiRole = 'operator' | 'researcher';

/** A bearer token of an operator or researcher; only its hash is stored. */
export interface ApiToken {
  id: string;
  name: string;
  role: ApiRole;
  /** The studies a researcher token may read, sorted (operators: none, they read every study). */
  studies: string[];
  tokenHash: string;
  createdAt: string;
  revokedAt: string | null;
}
/** Defaults: no studies. */
export type NewApiToken = Omit<ApiToken, 'revokedAt' | 'studies'> & Partial<Pick<ApiToken, 'studies'>>;

/**
 * Which coordinator key a store belongs to: the first coordinator process to open the store claims it, and a replica
 * started with other key files refuses to run (it would sign versions and answers that sites do not trust).
 */
export interface CoordinatorKeyClaim {
  /** The coordinator's key fingerprint (as sites confirm it at enrollment). */
  fingerprint: string;
  claimedAt: string;
}

/** A study: a named project that federations and researcher tokens belong to. */
export interface Study {
  id: string;
  name: string;
  description: string | null;
  createdAt: string;
}
/** Defaults: no description. */
export type NewStudy = Pick<Study, 'id' | 'name' | 'createdAt'> & Partial<Pick<Study, 'description'>>;

/** A one-time enrollment token for one site; only its hash is stored. */
export interface Invitation {
  id: string;
  siteName: string;
  tokenHash: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
  siteId: string | null;
}
export type NewInvitation = Omit<Invitation, 'usedAt' | 'siteId'>;

/** An enrolled site (hospital) with its public keys (base64). */
export interface Site {
  id: string;
  name: string;
  signPublicKey: string;
  boxPublicKey: string;
  enrolledAt: string;
  revokedAt: string | null;
  lastSeenAt: string | null;
  missedRounds: number;
}
export type NewSite = Pick<Site, 'id' | 'name' | 'signPublicKey' | 'boxPublicKey' | 'enrolledAt'>;

/** A federation: a plan being run for a number of rounds. */
export interface Federation {
  id: string;
  name: string;
  /** The study it belongs to (fixed at creation). */
  studyId: string;
  plan: JsonObject;
  state: FederationState;
  createdAt: string;
  updatedAt: string;
  currentRound: number;
  latestVersionId: string | null;
}
/** Defaults: studyId `DEFAULT_STUDY_ID`, state 'running', currentRound 0, latestVersionId null, updatedAt = createdAt. */
export type NewFederation = Pick<Federation, 'id' | 'name' | 'plan' | 'createdAt'> &
  Partial<Pick<Federation, 'studyId' | 'state' | 'currentRound' | 'latestVersionId' | 'updatedAt'>>;
/** A partial update; `updatedAt` defaults to the current time (in publishVersion: the version's createdAt). */
export type FederationPatch = Partial<Pick<Federation, 'state' | 'currentRound' | 'latestVersionId' | 'updatedAt'>>;

/** A new plan for a federation that has not started (see `amendFederationPlan`). */
export interface AmendPlanInput {
  id: string;
  name: string;
  plan: JsonObject;
  updatedAt: string;
}
/**
 * Outcome of `amendFederationPlan`: `amended` with the federation as stored now; else why nothing was written
 * (`unknown` federation, `not-running`, or `started`: a round opened, a version or a statistics contribution exists).
 */
export type AmendPlanResult =
  { status: 'amended'; federation: Federation } | { status: 'unknown' | 'not-running' | 'started' };

/**
 * A site's latest decision about a federation's plan, named by the plan's hash (one per federation × site). Who at
 * the site decided, and why, stays at the site.
 */
export interface SiteDecisionRecord {
  federationId: string;
  siteId: string;
  planSha256: string;
  decision: PlanDecision;
  decidedAt: string;
}
/** Outcome of storing a decision: `recorded`, or `unchanged` (the same decision about the same hash; the stored one is kept). */
export interface PutSiteDecisionResult {
  status: 'recorded' | 'unchanged';
  decision: SiteDecisionRecord;
}

/** Outcome of closing a cross-site evaluation: whether this call closed it, and the stored session either way. */
export interface CloseCrossSiteResult {
  closed: boolean;
  session: CrossSiteRecord;
}

/** One round of a federation, persisted at every state transition. */
export interface Round {
  federationId: string;
  round: number;
  state: RoundState;
  baseVersionId: string;
  selectedSiteIds: readonly string[];
  clientConfig: JsonObject;
  openedAt: string;
  deadlineAt: string;
  closedAt: string | null;
  failureReason: string | null;
  versionId: string | null;
}
/** Defaults: state 'open', closedAt/failureReason/versionId null. */
export type NewRound = Pick<
  Round,
  'federationId' | 'round' | 'baseVersionId' | 'selectedSiteIds' | 'clientConfig' | 'openedAt' | 'deadlineAt'
> & { state?: RoundState };
/** Fields a transition may change besides the state. */
export type RoundPatch = Partial<
  Pick<Round, 'closedAt' | 'failureReason' | 'versionId' | 'deadlineAt' | 'selectedSiteIds' | 'clientConfig'>
>;

/** One site's update for one round: the encrypted envelope exactly as received (never plaintext weights). */
export interface Update {
  federationId: string;
  round: number;
  siteId: string;
  digest: string;
  envelope: Uint8Array;
  numExamples: number;
  metrics: JsonObject;
  receivedAt: string;
}
/** A stored update without its envelope (what the store lists per round). The signed header inside an envelope is shared's `UpdateSummary`. */
export type UpdateSummary = Omit<Update, 'envelope'>;

/**
 * Outcome of putUpdate. `duplicate`: the same digest was already stored (idempotent retry);
 * `conflict`: a different digest is stored for this (federation, round, site);
 * `round-closed`: only when `acceptStates` was given and the round's state is not among them (nothing written).
 */
export interface PutUpdateResult {
  status: 'inserted' | 'duplicate' | 'conflict' | 'round-closed';
  existing?: Update;
}

/** An immutable, signed model version. Its weights are stored separately (getVersionWeights). */
export interface ModelVersion {
  id: string;
  federationId: string;
  parentVersionId: string | null;
  round: number;
  meta: JsonObject;
  signature: string;
  weightsSha256: string;
  createdAt: string;
}

/** A site's evaluation of a model version on its own held-out data. */
export interface Evaluation {
  versionId: string;
  siteId: string;
  metrics: JsonObject;
  /** The model's calibration on those rows (shared `Calibration`), null when the site reported none. */
  calibration: JsonObject | null;
  n: number;
  createdAt: string;
}
/** An evaluation to store: without calibration when the site reported none. */
export type NewEvaluation = Omit<Evaluation, 'calibration'> & Partial<Pick<Evaluation, 'calibration'>>;

/** A site's privacy-safe population report for a model version (counts per risk tier × age band, k-suppressed at the site). */
export interface PopulationReportRecord {
  versionId: string;
  federationId: string;
  siteId: string;
  report: JsonObject;
  createdAt: string;
}

/** A federated cohort statistics query of a study (the query JSON as validated by `CohortQuerySchema`). */
export interface CohortQueryRecord {
  id: string;
  studyId: string;
  query: JsonObject;
  /** The audit actor who posted it (`researcher:<name>`, `operator:<name>`). */
  createdBy: string;
  createdAt: string;
}

/** A site's answer to a cohort query: its released table or a refusal (`CohortAnswerSchema`), as received. */
export interface CohortAnswerRecord {
  queryId: string;
  siteId: string;
  answer: JsonObject;
  /** sha256 of the answer's canonical JSON: the same answer again is a duplicate, another one a conflict. */
  digest: string;
  createdAt: string;
}

/** Insert-once result of a cohort answer: 'accepted', 'duplicate' (same digest stored) or 'conflict' (another kept). */
export type PutCohortAnswerResult =
  { status: 'accepted' } | { status: 'duplicate' | 'conflict'; existing: CohortAnswerRecord };

/** States of a cohort query's secure pool once its cohort is fixed. */
export type CohortPoolState = 'open' | 'complete' | 'failed';

/**
 * The secure pool of a cohort query (`summaries.pooled: "secure"`), fixed once every asked site has answered or
 * refused: its cohort (the sites that answered with a table, sorted), the length of the masked vectors, its state and
 * its result (the pooled figures when complete, `{ code }` when failed; null while open).
 */
export interface CohortPoolRecord {
  queryId: string;
  siteIds: string[];
  length: number;
  state: CohortPoolState;
  result: JsonObject | null;
  createdAt: string;
}

/** A site's masked vector for a cohort pool: ring elements that mean nothing on their own. One per (query, site). */
export interface CohortPoolContributionRecord {
  queryId: string;
  siteId: string;
  masked: Uint8Array;
  createdAt: string;
}

/**
 * Outcome of storing a pool contribution: new, the same bytes again, different bytes (the first are kept), or
 * `closed` (no contribution stored and the pool is no longer open).
 */
export type PutCohortPoolContributionResult =
  | { status: 'accepted' }
  | { status: 'duplicate' | 'conflict'; existing: CohortPoolContributionRecord }
  | { status: 'closed'; pool: CohortPoolRecord };

/**
 * A site's masked contribution to a federation's secure sum of normalisation statistics: ring elements that mean
 * nothing on their own (pairwise masks cancel only in the cohort's sum). One per (federation, site).
 */
export interface StatsContributionRecord {
  federationId: string;
  siteId: string;
  masked: Uint8Array;
  createdAt: string;
}

/** Outcome of storing a contribution: new, the same bytes again, or different bytes (the first ones are kept). */
export type PutStatsContributionResult =
  { status: 'accepted' } | { status: 'duplicate' | 'conflict'; existing: StatsContributionRecord };

/** What a site sends in a phase of a secure-aggregation round: its signed keys and encrypted shares, its signature over the round (consistency), or its unmasking reveal. */
export type SecaggKind = 'shares' | 'consistency' | 'reveal';

/** One site's message for one phase of a secure-aggregation round (payload: JSON text validated by the engine; opaque here). */
export interface SecaggMessageRecord {
  federationId: string;
  round: number;
  siteId: string;
  kind: SecaggKind;
  payload: string;
  createdAt: string;
}

/** Insert-once result: 'accepted' (stored now), 'duplicate' (same payload already stored), 'conflict' (another payload stored first; `existing` is it). */
export interface PutSecaggMessageResult {
  status: 'accepted' | 'duplicate' | 'conflict';
  existing?: SecaggMessageRecord;
}

/** The sites whose key shares a secure-aggregation round accepted (U2 of Bonawitz et al.), fixed once. */
export interface SecaggCohortRecord {
  federationId: string;
  round: number;
  siteIds: string[];
  fixedAt: string;
}

/**
 * One entry of the hash-chained audit log: `seq` runs 1, 2, 3, … (assigned by the store), `prevHash` is the previous
 * entry's hash and `hash` = {@link auditEntryHash} of the entry. `detail` never holds secrets (tokens, keys, weights).
 */
export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  detail: JsonObject;
  prevHash: string;
  hash: string;
}
/** What a caller appends; the store chains it. */
export type NewAuditEntry = Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>;

/** The chain head signed by the coordinator key at a version publish. */
export interface AuditHead {
  seq: number;
  headHash: string;
  at: string;
  /** Base64 Ed25519 signature over sha256("TWINFED-AUDIT-HEAD-V1\n" ‖ canonicalJson({ seq, headHash, at })). */
  signature: string;
}

/**
 * A named lease (e.g. `driver:<federationId>`: the replica that drives a federation's rounds). `token` is the fencing
 * token: it grows by one on every acquisition (a new holder, a takeover of an expired lease), never on a renewal, and a
 * released lease keeps it. Times are epoch milliseconds.
 */
export interface Lease {
  name: string;
  holder: string;
  token: number;
  /** The lease is held while `now < expiresAt`; 0 once released. */
  expiresAt: number;
}

/**
 * What a fenced write carries: the store writes only when the lease `lease` still has this `token` and has not expired
 * at `now` (epoch ms), checked in the write's own transaction; otherwise it rejects LEASE_LOST and writes nothing.
 */
export interface LeaseFence {
  lease: string;
  token: number;
  now: number;
}

/** The phases of a cross-site evaluation (shared schemas/cross-site). */
export type CrossSiteState = 'models' | 'evaluating' | 'complete';

/**
 * A federation's cross-site evaluation, opened once after it completed: the global version evaluated, the candidate
 * sites (its contributors, sorted), the phase and its deadlines, the participants fixed when the `models` phase
 * ended (null before), and the signed matrix once complete (null before).
 */
export interface CrossSiteRecord {
  federationId: string;
  globalVersionId: string;
  candidates: string[];
  state: CrossSiteState;
  openedAt: string;
  modelsDeadlineAt: string;
  participants: string[] | null;
  resultsDeadlineAt: string | null;
  matrix: JsonObject | null;
  closedAt: string | null;
}

/** What a site sent in a cross-site evaluation: its `answer` (models phase) or its `result` (evaluating phase). */
export type CrossSiteKind = 'answer' | 'result';

/** A site's answer (`{ status: 'model' | 'refused' }`) or result (metrics only). One per (federation, site, kind). */
export interface CrossSiteMessageRecord {
  federationId: string;
  siteId: string;
  kind: CrossSiteKind;
  payload: JsonObject;
  createdAt: string;
}

/** A local model sealed by `sender` to `recipient` (ciphertext the coordinator cannot open), deleted once used. */
export interface CrossSiteBoxRecord {
  federationId: string;
  sender: string;
  recipient: string;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

/**
 * Outcome of storing a cross-site message: new, the same payload again or another payload (the first is kept), or
 * `closed` (nothing stored: the evaluation is not in the phase of this kind of message).
 */
export type PutCrossSiteMessageResult =
  | { status: 'accepted' }
  | { status: 'duplicate' | 'conflict'; existing: CrossSiteMessageRecord }
  | { status: 'closed'; session: CrossSiteRecord };
