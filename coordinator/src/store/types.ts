/**
 * The coordinator's persistence contract. All federation state lives behind this interface so that
 * several coordinator processes can later share one PostgreSQL; it is async for that reason.
 *
 * Errors: methods reject with TwinfedError — ALREADY_EXISTS (duplicate id/key), UNKNOWN_FEDERATION,
 * UNKNOWN_ROUND, UNKNOWN_MODEL_VERSION, UNKNOWN_STUDY (missing parent record), NOT_READY (store closed).
 * "Not found" on reads is `null`, never an error. Every write is durable when its promise resolves.
 */
import type { RoundState } from '@twinfed/shared';
import type {
  AmendPlanInput,
  AmendPlanResult,
  ApiToken,
  AuditEntry,
  CoordinatorKeyClaim,
  AuditHead,
  CohortAnswerRecord,
  CohortPoolContributionRecord,
  CohortPoolRecord,
  CohortPoolState,
  CohortQueryRecord,
  CrossSiteBoxRecord,
  CrossSiteKind,
  CrossSiteMessageRecord,
  CrossSiteRecord,
  Evaluation,
  NewEvaluation,
  PopulationReportRecord,
  PutCohortAnswerResult,
  PutCohortPoolContributionResult,
  PutCrossSiteMessageResult,
  PutSecaggMessageResult,
  PutStatsContributionResult,
  SecaggCohortRecord,
  SecaggKind,
  SecaggMessageRecord,
  StatsContributionRecord,
  Federation,
  FederationPatch,
  Invitation,
  JsonObject,
  Lease,
  LeaseFence,
  ModelVersion,
  NewApiToken,
  CloseCrossSiteResult,
  NewAuditEntry,
  NewFederation,
  NewInvitation,
  NewRound,
  NewSite,
  NewStudy,
  PutSiteDecisionResult,
  PutUpdateResult,
  Round,
  RoundPatch,
  Site,
  Study,
  SiteDecisionRecord,
  Update,
  UpdateSummary,
} from './records';

export * from './records';

export interface EnrollSiteInput {
  tokenHash: string;
  now: string;
  site: NewSite;
  /** Appended to the audit chain in the same transaction, only when the site is enrolled. */
  audit?: NewAuditEntry;
}

/** What a signed audit head covers (see {@link AuditHead}). */
export interface AuditHeadPayload {
  seq: number;
  headHash: string;
  at: string;
}

export interface UseNonceInput {
  siteId: string;
  nonce: string;
  expiresAt: string;
  now: string;
  /**
   * When set and the nonce was fresh: the site's `lastSeenAt` becomes this, in the same write (the presence write of a
   * signed request folded into its nonce statement: one round trip instead of two).
   */
  seenAt?: string;
}

export interface TransitionRoundInput {
  federationId: string;
  round: number;
  from: RoundState[];
  to: RoundState;
  patch?: RoundPatch;
  /** Appended to the audit chain in the same transaction, only when the transition happens. */
  audit?: NewAuditEntry;
  /** When given, the transition happens only while this lease holds (else LEASE_LOST, nothing written). */
  fence?: LeaseFence;
}

export interface PutUpdateOptions {
  /** When given, the update is only inserted while the round's state is one of these (checked atomically). */
  acceptStates?: RoundState[];
  /**
   * The site's evaluation of the round's base version that the update carried: upserted in the same transaction as
   * the update, only when the update is inserted (a duplicate's was stored with it the first time).
   */
  evaluation?: NewEvaluation;
}

export interface PublishVersionInput {
  version: ModelVersion;
  weights: Uint8Array;
  /** Uint8Array: replace the federation's strategy state; null: delete it; undefined: leave it. */
  strategyState?: Uint8Array | null;
  /** CAS the round from one of `from` to 'published' (versionId = version.id, closedAt kept or version.createdAt). */
  round?: { federationId: string; round: number; from: RoundState[] };
  /** Applied to version.federationId; latestVersionId defaults to version.id, updatedAt to version.createdAt. */
  federationPatch?: FederationPatch;
  /** Appended to the audit chain in the same transaction, only when the version is published. */
  audit?: NewAuditEntry;
  /**
   * Signs the chain head after `audit` was appended (synchronously: it runs inside the transaction); the signed head
   * is stored with the version. Needs `audit`.
   */
  signAuditHead?: (head: AuditHeadPayload) => string;
  /** When given, the version is published only while this lease holds (else LEASE_LOST, nothing written). */
  fence?: LeaseFence;
}

export interface AcquireLeaseInput {
  name: string;
  holder: string;
  ttlMs: number;
  /** Epoch ms. */
  now: number;
  /**
   * Also take the lease while it is still held, when its holder is this one (a replica restarted under the same
   * holder name takes over from its former self at once; the token still grows, which fences the former self off).
   */
  takeFrom?: string;
}

export interface RenewLeaseInput {
  name: string;
  holder: string;
  token: number;
  ttlMs: number;
  now: number;
}

export interface ReleaseLeaseInput {
  name: string;
  holder: string;
  token: number;
}

export interface ListAuditOptions {
  limit: number;
  /** Only entries with seq > afterSeq. */
  afterSeq?: number;
  /** 'asc' (default): oldest first; 'desc': newest first. */
  order?: 'asc' | 'desc';
}

/** API tokens, invitations and enrollment, sites, request nonces. */
export interface IdentityStore {
  // --- the coordinator key the store belongs to
  /** Insert-once: the first claim is stored and returned; every later call returns that first claim unchanged. */
  claimCoordinatorKey(claim: CoordinatorKeyClaim): Promise<CoordinatorKeyClaim>;

  // --- operator / researcher tokens
  /**
   * `audit`, when given, is appended to the audit chain in the same transaction (here and in every write below that
   * takes one). Rejects UNKNOWN_STUDY when one of `token.studies` does not exist (nothing written).
   */
  createApiToken(token: NewApiToken, audit?: NewAuditEntry): Promise<ApiToken>;
  /** Returns revoked tokens too (check revokedAt). */
  findApiTokenByHash(tokenHash: string): Promise<ApiToken | null>;
  listApiTokens(): Promise<ApiToken[]>;
  /** True when the token existed and was not yet revoked (only then is `audit` appended). */
  revokeApiToken(id: string, at: string, audit?: NewAuditEntry): Promise<boolean>;

  // --- enrollment and sites
  createInvitation(invitation: NewInvitation, audit?: NewAuditEntry): Promise<Invitation>;
  listInvitations(): Promise<Invitation[]>;
  /** The invitation whose token hashes to `tokenHash` (used or not), or null: one indexed read, not a list. */
  findInvitationByTokenHash(tokenHash: string): Promise<Invitation | null>;
  /**
   * Atomically: the invitation with this hash exists, is unused and `expiresAt > now` → mark it used
   * (usedAt = now, siteId = site.id) and insert the site. Null when the token is unknown, used or expired.
   * Rejects ALREADY_EXISTS (and consumes nothing) when the site id is taken.
   */
  enrollSite(input: EnrollSiteInput): Promise<Site | null>;
  getSite(id: string): Promise<Site | null>;
  listSites(): Promise<Site[]>;
  /** Sets revokedAt (first revocation wins; only it appends `audit`); returns the site, or null when unknown. */
  revokeSite(id: string, at: string, audit?: NewAuditEntry): Promise<Site | null>;
  /** Sets lastSeenAt; false when the site is unknown. */
  touchSite(id: string, at: string): Promise<boolean>;
  /** False when the site is unknown. */
  setMissedRounds(id: string, missedRounds: number): Promise<boolean>;

  // --- request nonces (replay protection)
  /** False when (siteId, nonce) was already used and has not expired (expiresAt > now); otherwise records it. */
  useNonce(input: UseNonceInput): Promise<boolean>;
  /** Deletes nonces with expiresAt <= now; returns how many. */
  pruneNonces(now: string): Promise<number>;
}

/** Studies: the named projects federations and researcher tokens belong to. A fresh store holds the `DEFAULT_STUDY_ID` study. */
export interface StudyStore {
  /** Rejects ALREADY_EXISTS when the id or the name is taken. */
  createStudy(study: NewStudy, audit?: NewAuditEntry): Promise<Study>;
  getStudy(id: string): Promise<Study | null>;
  /** In creation order (createdAt, then id). */
  listStudies(): Promise<Study[]>;
}

/** Federations and their rounds. */
export interface FederationStore {
  /** Rejects ALREADY_EXISTS, or UNKNOWN_STUDY when its study does not exist. */
  createFederation(federation: NewFederation, audit?: NewAuditEntry): Promise<Federation>;
  getFederation(id: string): Promise<Federation | null>;
  listFederations(): Promise<Federation[]>;
  /** Null when the federation is unknown. With `fence`: only while that lease holds (else LEASE_LOST, nothing written). */
  updateFederation(id: string, patch: FederationPatch, fence?: LeaseFence): Promise<Federation | null>;
  /**
   * Replaces the name and plan of a running federation that has not started (current round 0, no round, no published
   * version, no statistics contribution), with `updatedAt`, in one transaction with `audit` (appended only when it
   * is amended). Anything else writes nothing and says why.
   */
  amendFederationPlan(input: AmendPlanInput, audit?: NewAuditEntry): Promise<AmendPlanResult>;
  /**
   * Rejects UNKNOWN_FEDERATION, or ALREADY_EXISTS when the round number is taken; with `fence`, LEASE_LOST when that
   * lease no longer holds (nothing written).
   */
  createRound(round: NewRound, audit?: NewAuditEntry, fence?: LeaseFence): Promise<Round>;
  getRound(federationId: string, round: number): Promise<Round | null>;
  /** Ascending by round number. */
  listRounds(federationId: string): Promise<Round[]>;
  /**
   * Compare-and-set: the updated round, or null when the round is unknown or its state is not in `from`. With
   * `input.fence`, LEASE_LOST (nothing written) when that lease no longer holds.
   */
  transitionRound(input: TransitionRoundInput): Promise<Round | null>;
}

/** Site updates (encrypted envelopes) per round. */
export interface UpdateStore {
  /** Idempotent by digest; rejects UNKNOWN_ROUND when the round does not exist. */
  putUpdate(update: Update, options?: PutUpdateOptions): Promise<PutUpdateResult>;
  getUpdate(federationId: string, round: number, siteId: string): Promise<Update | null>;
  /** Ordered by siteId. Loads every envelope: prefer listUpdateSummaries + getUpdate to stream. */
  listUpdates(federationId: string, round: number): Promise<Update[]>;
  /** Ordered by siteId, without envelopes. */
  listUpdateSummaries(federationId: string, round: number): Promise<UpdateSummary[]>;
  countUpdates(federationId: string, round: number): Promise<number>;
  /** Whether the site's update of the round is stored (without reading it). */
  hasUpdate(federationId: string, round: number, siteId: string): Promise<boolean>;
}

/** The model registry (versions, weights, strategy state) and evaluations of versions. */
export interface VersionStore {
  /**
   * One transaction: insert version + weights, save strategy state, CAS the round to 'published',
   * patch the federation. Null (nothing written) when the round CAS fails. Rejects ALREADY_EXISTS
   * for a duplicate version id and UNKNOWN_FEDERATION for an unknown federation.
   */
  publishVersion(input: PublishVersionInput): Promise<ModelVersion | null>;
  getVersion(id: string): Promise<ModelVersion | null>;
  getVersionWeights(id: string): Promise<Uint8Array | null>;
  /** In publication order, optionally of one federation. */
  listVersions(filter?: { federationId?: string }): Promise<ModelVersion[]>;
  /** The most recently published version of the federation (publication order), or null. */
  latestVersion(federationId: string): Promise<ModelVersion | null>;
  getStrategyState(federationId: string): Promise<Uint8Array | null>;

  /** Upsert per (versionId, siteId); rejects UNKNOWN_MODEL_VERSION. */
  putEvaluation(evaluation: NewEvaluation): Promise<Evaluation>;
  /** Ordered by siteId. */
  listEvaluations(versionId: string): Promise<Evaluation[]>;
  /** Every evaluation of every version of a federation, in version publication order then by siteId. */
  listFederationEvaluations(federationId: string): Promise<Evaluation[]>;
}

/** Population reports per model version and site. */
export interface PopulationStore {
  /** Upsert per (version, site); rejects UNKNOWN_MODEL_VERSION. */
  putPopulationReport(report: PopulationReportRecord): Promise<PopulationReportRecord>;
  /** Ordered by version publication then siteId; filter by version or federation. */
  listPopulationReports(filter?: { versionId?: string; federationId?: string }): Promise<PopulationReportRecord[]>;
}

/** Federated cohort statistics: the queries of studies and the sites' answers (one per query and site). */
export interface CohortStore {
  /** Rejects ALREADY_EXISTS for a taken id, UNKNOWN_STUDY for an unknown study; `audit` is appended in the same transaction. */
  createCohortQuery(query: CohortQueryRecord, audit?: NewAuditEntry): Promise<CohortQueryRecord>;
  getCohortQuery(id: string): Promise<CohortQueryRecord | null>;
  /** In creation order, optionally of one study. */
  listCohortQueries(filter?: { studyId?: string }): Promise<CohortQueryRecord[]>;
  /**
   * Insert-once per (query, site): 'accepted' (and `audit` appended); the same digest again: 'duplicate'; another
   * digest: 'conflict' (the first is kept). Rejects NOT_FOUND when the query does not exist.
   */
  putCohortAnswer(answer: CohortAnswerRecord, audit?: NewAuditEntry): Promise<PutCohortAnswerResult>;
  /** One query's answers, ordered by siteId. */
  listCohortAnswers(queryId: string): Promise<CohortAnswerRecord[]>;
  /** One site's answers to every query, ordered by queryId. */
  listSiteCohortAnswers(siteId: string): Promise<CohortAnswerRecord[]>;
}

/** The secure pools of cohort queries and the sites' masked vectors. */
export interface CohortPoolStore {
  /**
   * Insert-once per query: the first call stores the pool as given and returns it; every later call returns that first
   * record unchanged, whatever it passes. Rejects NOT_FOUND when the query does not exist.
   */
  fixCohortPool(pool: CohortPoolRecord): Promise<CohortPoolRecord>;
  getCohortPool(queryId: string): Promise<CohortPoolRecord | null>;
  /**
   * Insert-once per (query, site): 'accepted' while the pool is open; the same bytes again 'duplicate' (in any state);
   * other bytes 'conflict' (the first kept); 'closed' when nothing is stored and the pool is complete or failed.
   * Rejects NOT_FOUND when the pool does not exist.
   */
  putCohortPoolContribution(contribution: CohortPoolContributionRecord): Promise<PutCohortPoolContributionResult>;
  /** Ordered by siteId. */
  listCohortPoolContributions(queryId: string): Promise<CohortPoolContributionRecord[]>;
  /**
   * Closes an open pool once (complete or failed, with its result) and returns the stored record; a pool already closed
   * is returned unchanged. Rejects NOT_FOUND when the pool does not exist.
   */
  closeCohortPool(
    queryId: string,
    state: Exclude<CohortPoolState, 'open'>,
    result: JsonObject,
  ): Promise<CohortPoolRecord>;
}

/** Secure-sum contributions (federated normalisation statistics; a Cox federation's baseline). */
export interface StatsStore {
  /** Insert-once per (federation, site): 'accepted'; same bytes again: 'duplicate'; other bytes: 'conflict' (first kept). Rejects UNKNOWN_FEDERATION. */
  putStatsContribution(contribution: StatsContributionRecord): Promise<PutStatsContributionResult>;
  /** Ordered by siteId. */
  listStatsContributions(federationId: string): Promise<StatsContributionRecord[]>;
  /** A Cox federation's baseline secure sum (its own table, the same rules as {@link putStatsContribution}). */
  putBaselineContribution(contribution: StatsContributionRecord): Promise<PutStatsContributionResult>;
  /** Ordered by siteId. */
  listBaselineContributions(federationId: string): Promise<StatsContributionRecord[]>;
}

/** The masked recalibration histograms of a federation (plan option `recalibration`): one secure sum, as StatsStore's. */
export interface RecalibrationStore {
  /** Insert-once per (federation, site): 'accepted'; same bytes again: 'duplicate'; other bytes: 'conflict' (first kept). Rejects UNKNOWN_FEDERATION. */
  putRecalibrationContribution(contribution: StatsContributionRecord): Promise<PutStatsContributionResult>;
  /** Ordered by siteId. */
  listRecalibrationContributions(federationId: string): Promise<StatsContributionRecord[]>;
}

/** Secure aggregation: per-round key shares, unmasking reveals and the fixed cohort. */
export interface SecaggStore {
  /**
   * Insert-once per (federation, round, site, kind): 'accepted'; the same payload again: 'duplicate'; another payload:
   * 'conflict' (the first is kept). Both carry `existing`. Rejects UNKNOWN_ROUND when the round does not exist.
   */
  putSecaggMessage(message: SecaggMessageRecord): Promise<PutSecaggMessageResult>;
  /**
   * The round's messages of one kind, ordered by siteId; empty when none. With `from`, only those of these sites (a
   * site's state relays its closed neighbourhood's consistency signatures: k + 1 rows, not the whole cohort's).
   */
  listSecaggMessages(
    federationId: string,
    round: number,
    kind: SecaggKind,
    from?: readonly string[],
  ): Promise<SecaggMessageRecord[]>;
  /**
   * The ids of the sites with a message of that kind in the round, ordered as {@link listSecaggMessages} (without
   * reading the payloads: what the coordinator asks on every poll); empty when none.
   */
  listSecaggSenders(federationId: string, round: number, kind: SecaggKind): Promise<string[]>;
  /**
   * How many sites have a message of that kind in the round (the length of {@link listSecaggSenders}, counted by the
   * store). Messages are insert-once and never removed, so a reader that knows that many senders knows them all.
   */
  countSecaggMessages(federationId: string, round: number, kind: SecaggKind): Promise<number>;
  /**
   * Insert-once per (federation, round): the first call stores the cohort (siteIds as given) and returns it; every
   * later call returns that first record unchanged, whatever it passes. Rejects UNKNOWN_ROUND; with `fence`,
   * LEASE_LOST when that lease no longer holds (nothing written).
   */
  fixSecaggCohort(cohort: SecaggCohortRecord, fence?: LeaseFence): Promise<SecaggCohortRecord>;
  /** The round's fixed cohort, or null when none was fixed (or the round is unknown). */
  getSecaggCohort(federationId: string, round: number): Promise<SecaggCohortRecord | null>;
}

/** Cross-site evaluations: one session per federation, the sites' messages, and the sealed local models in transit. */
export interface CrossSiteStore {
  /**
   * Insert-once per federation: the first call stores the session as given and returns it; every later call returns
   * that first record unchanged. Rejects UNKNOWN_FEDERATION.
   */
  openCrossSite(session: CrossSiteRecord): Promise<CrossSiteRecord>;
  getCrossSite(federationId: string): Promise<CrossSiteRecord | null>;
  /**
   * Insert-once per (federation, site, kind), an `answer` with its `boxes` in the same transaction: 'accepted'; the
   * same payload again 'duplicate', another 'conflict' (the first kept, with its boxes); 'closed' (nothing stored)
   * when the session is not in the kind's phase (`answer`: models, `result`: evaluating). A stored `result` deletes
   * every box addressed to its site. Rejects NOT_FOUND when there is no session.
   */
  putCrossSiteMessage(
    message: CrossSiteMessageRecord,
    boxes?: readonly CrossSiteBoxRecord[],
  ): Promise<PutCrossSiteMessageResult>;
  /** Ordered by siteId. */
  listCrossSiteMessages(federationId: string, kind: CrossSiteKind): Promise<CrossSiteMessageRecord[]>;
  /** The boxes addressed to `recipient`, ordered by sender. */
  listCrossSiteBoxes(federationId: string, recipient: string): Promise<CrossSiteBoxRecord[]>;
  /**
   * models → evaluating, when the session is in `models` and the sites whose stored answer has status 'model' are
   * exactly `participants`: fixes them and `resultsDeadlineAt`, and deletes every box addressed to a non-participant.
   * Returns the stored session (unchanged when the condition does not hold). Rejects NOT_FOUND when there is none.
   */
  fixCrossSiteParticipants(
    federationId: string,
    participants: readonly string[],
    resultsDeadlineAt: string,
  ): Promise<CrossSiteRecord>;
  /**
   * evaluating → complete, when the session is in `evaluating` and the sites with a stored result are exactly
   * `reported`: stores the signed matrix, deletes every box of the federation and appends `audit` in the same
   * transaction. `closed` says whether this call made that transition (of concurrent calls, exactly one does);
   * `session` is the stored session, unchanged when the condition does not hold. Rejects NOT_FOUND when there is none.
   */
  closeCrossSite(
    federationId: string,
    o: { matrix: JsonObject; closedAt: string; reported: readonly string[] },
    audit?: NewAuditEntry,
  ): Promise<CloseCrossSiteResult>;
}

/** Sites' decisions about federations' plans: the latest per (federation, site). */
export interface DecisionStore {
  /**
   * Upsert per (federation, site). The same decision about the same hash as the stored one is `unchanged` (the stored
   * record, its time included, is kept and `audit` is not appended); anything else replaces it (`recorded`, with
   * `audit` in the same transaction). Rejects UNKNOWN_FEDERATION.
   */
  putSiteDecision(decision: SiteDecisionRecord, audit?: NewAuditEntry): Promise<PutSiteDecisionResult>;
  /** Ordered by siteId; empty when none (or the federation is unknown). */
  listSiteDecisions(federationId: string): Promise<SiteDecisionRecord[]>;
}

/** The audit log (hash chain; see shared/src/audit) and its signed heads. */
export interface AuditStore {
  /** Appends one entry on its own (chained to the current head). */
  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  listAudit(options: ListAuditOptions): Promise<AuditEntry[]>;
  /** Signed heads, ascending by seq. */
  listAuditHeads(): Promise<AuditHead[]>;
  /**
   * The highest seq the store ever assigned (SQLite: its AUTOINCREMENT counter), so a chain whose tail was deleted is
   * detected; null when the store cannot tell.
   */
  auditSequenceEnd(): Promise<number | null>;
}

/**
 * Leases with fencing tokens: which coordinator replica drives which federation (rounds/driver-leases.ts). Every
 * state-changing write of the round machine can carry a {@link LeaseFence} that the store checks in the same
 * transaction. Times are epoch ms from the caller's clock.
 */
export interface LeaseStore {
  /**
   * Takes the lease when it does not exist, has expired (`expiresAt <= now`) or was released, or is held by
   * `takeFrom`: then holder = `holder`, expiresAt = now + ttlMs and the token grows by one (1 for a new lease).
   * Null when another holder has it.
   */
  acquireLease(input: AcquireLeaseInput): Promise<{ token: number; expiresAt: number } | null>;
  /**
   * Extends the lease to now + ttlMs while `holder` still has it with `token` and it has not expired at `now`; the new
   * expiry, or null (lost: expired, taken over, released).
   */
  renewLease(input: RenewLeaseInput): Promise<{ expiresAt: number } | null>;
  /** Ends the lease (expiresAt = 0; the token is kept) when `holder` has it with `token`; false otherwise. */
  releaseLease(input: ReleaseLeaseInput): Promise<boolean>;
  getLease(name: string): Promise<Lease | null>;
}

/**
 * Counts a coordinator replica keeps across restarts (its metrics' late uploads, rounds closed, recoveries; see
 * metrics/durable-counts.ts), one per (replica, name), each only ever growing.
 */
export interface CountStore {
  /** Adds `by` (a positive integer) to the replica's count `name`, which starts at 0. */
  addToCount(input: { replica: string; name: string; by: number }): Promise<void>;
  /** The replica's counts by name (none stored: an empty object). */
  listCounts(replica: string): Promise<Record<string, number>>;
}

export interface StoreLifecycle {
  /** A write probe: true when the store can durably write. False after close. */
  health(): Promise<boolean>;
  /** Idempotent. Every other method rejects NOT_READY afterwards. */
  close(): Promise<void>;
}

/**
 * The domains of a Store. Each implementation builds one part per domain (memory/<domain>.ts, sqlite/<domain>.ts)
 * and `storeClass` (compose.ts) joins them into one object; a missing or mistyped part is a compile error.
 */
export interface StoreDomains {
  identity: IdentityStore;
  studies: StudyStore;
  federations: FederationStore;
  updates: UpdateStore;
  versions: VersionStore;
  population: PopulationStore;
  cohort: CohortStore;
  cohortPool: CohortPoolStore;
  stats: StatsStore;
  recalibration: RecalibrationStore;
  secagg: SecaggStore;
  decisions: DecisionStore;
  crossSite: CrossSiteStore;
  audit: AuditStore;
  leases: LeaseStore;
  counts: CountStore;
  lifecycle: StoreLifecycle;
}

/** The whole persistence contract: every domain's methods on one object (see the file comment). */
export interface Store
  extends
    IdentityStore,
    StudyStore,
    FederationStore,
    UpdateStore,
    VersionStore,
    PopulationStore,
    CohortStore,
    CohortPoolStore,
    StatsStore,
    RecalibrationStore,
    SecaggStore,
    DecisionStore,
    CrossSiteStore,
    AuditStore,
    LeaseStore,
    CountStore,
    StoreLifecycle {}
