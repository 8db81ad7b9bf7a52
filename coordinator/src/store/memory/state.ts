import type {
  ApiToken,
  AuditEntry,
  AuditHead,
  Evaluation,
  PopulationReportRecord,
  SecaggCohortRecord,
  SecaggMessageRecord,
  StatsContributionRecord,
  Federation,
  Invitation,
  ModelVersion,
  Round,
  Site,
  Update,
} from '../records';

/** Everything the in-memory store holds. Records in here are never handed out; callers get copies. */
export interface MemoryState {
  tokens: Map<string, ApiToken>;
  invitations: Map<string, Invitation>;
  sites: Map<string, Site>;
  /** key(siteId, nonce) → expiresAt */
  nonces: Map<string, string>;
  federations: Map<string, Federation>;
  /** key(federationId, round) */
  rounds: Map<string, Round>;
  /** key(federationId, round, siteId) */
  updates: Map<string, Update>;
  /** Insertion order is publication order. */
  versions: Map<string, ModelVersion>;
  weights: Map<string, Uint8Array>;
  strategyStates: Map<string, Uint8Array>;
  /** key(versionId, siteId) */
  evaluations: Map<string, Evaluation>;
  /** key(versionId, siteId) */
  populationReports: Map<string, PopulationReportRecord>;
  /** key(federationId, siteId) */
  statsContributions: Map<string, StatsContributionRecord>;
  /** key(federationId, round, siteId, kind) */
  secaggMessages: Map<string, SecaggMessageRecord>;
  /** key(federationId, round) */
  secaggCohorts: Map<string, SecaggCohortRecord>;
  audit: AuditEntry[];
  /** Ascending by seq. */
  auditHeads: AuditHead[];
}

export function emptyState(): MemoryState {
  return {
    tokens: new Map(),
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
    statsContributions: new Map(),
    secaggMessages: new Map(),
    secaggCohorts: new Map(),
    audit: [],
    auditHeads: [],
  };
}

/** A composite map key (NUL cannot occur in ids). */
export function key(...parts: (string | number)[]): string {
  return parts.join('\u0000');
}
