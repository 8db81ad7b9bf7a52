import type * as R from '../records';
import { defaultStudy } from '../default-study';

/** Everything the in-memory store holds. Records in here are never handed out; callers get copies. */
export interface MemoryState {
  coordinatorKey: R.CoordinatorKeyClaim | null;
  tokens: Map<string, R.ApiToken>;
  studies: Map<string, R.Study>;
  invitations: Map<string, R.Invitation>;
  sites: Map<string, R.Site>;
  /** key(siteId, nonce) → expiresAt */
  nonces: Map<string, string>;
  federations: Map<string, R.Federation>;
  /** key(federationId, round) */
  rounds: Map<string, R.Round>;
  /** key(federationId, round, siteId) */
  updates: Map<string, R.Update>;
  /** Insertion order is publication order. */
  versions: Map<string, R.ModelVersion>;
  weights: Map<string, Uint8Array>;
  strategyStates: Map<string, Uint8Array>;
  /** key(versionId, siteId) */
  evaluations: Map<string, R.Evaluation>;
  /** key(versionId, siteId) */
  populationReports: Map<string, R.PopulationReportRecord>;
  /** Insertion order is creation order. */
  cohortQueries: Map<string, R.CohortQueryRecord>;
  /** key(queryId, siteId) */
  cohortAnswers: Map<string, R.CohortAnswerRecord>;
  /** By query id. */
  cohortPools: Map<string, R.CohortPoolRecord>;
  /** key(queryId, siteId) */
  cohortPoolContributions: Map<string, R.CohortPoolContributionRecord>;
  /** key(federationId, siteId) */
  statsContributions: Map<string, R.StatsContributionRecord>;
  recalibrationContributions: Map<string, R.StatsContributionRecord>;
  /** key(federationId, siteId) */
  baselineContributions: Map<string, R.StatsContributionRecord>;
  /** key(federationId, round, siteId, kind) */
  secaggMessages: Map<string, R.SecaggMessageRecord>;
  /** key(federationId, round) */
  secaggCohorts: Map<string, R.SecaggCohortRecord>;
  /** key(federationId, siteId) */
  siteDecisions: Map<string, R.SiteDecisionRecord>;
  /** By federation id. */
  crossSites: Map<string, R.CrossSiteRecord>;
  /** key(federationId, siteId, kind) */
  crossSiteMessages: Map<string, R.CrossSiteMessageRecord>;
  /** key(federationId, sender, recipient) */
  crossSiteBoxes: Map<string, R.CrossSiteBoxRecord>;
  /** By lease name; never deleted (a released lease keeps its token). */
  leases: Map<string, R.Lease>;
  /** Metric counts by key(replica, name). */
  counts: Map<string, number>;
  audit: R.AuditEntry[];
  /** Ascending by seq. */
  auditHeads: R.AuditHead[];
}

export function emptyState(): MemoryState {
  return {
    coordinatorKey: null,
    tokens: new Map(),
    studies: new Map([[defaultStudy.id, { ...defaultStudy, createdAt: new Date().toISOString() }]]),
    invitations: new Map(),
    sites: new Map(),
    nonces: new Map(),
    federations: new Map(),
    rounds: new Map(),
    updates: new Map(),
    versions: new Map(),
    weights: new Map(),
    strategyStates: new Map(),
    evaluations: new Map(),
    populationReports: new Map(),
    cohortQueries: new Map(),
    cohortAnswers: new Map(),
    cohortPools: new Map(),
    cohortPoolContributions: new Map(),
    statsContributions: new Map(),
    recalibrationContributions: new Map(),
    baselineContributions: new Map(),
    secaggMessages: new Map(),
    secaggCohorts: new Map(),
    siteDecisions: new Map(),
    crossSites: new Map(),
    crossSiteMessages: new Map(),
    crossSiteBoxes: new Map(),
    leases: new Map(),
    counts: new Map(),
    audit: [],
    auditHeads: [],
  };
}

/** A composite map key (NUL cannot occur in ids). */
export function key(...parts: (string | number)[]): string {
  return parts.join('\u0000');
}
