import type {
  ApiToken,
  AuditEntry,
  CohortAnswerRecord,
  CohortPoolContributionRecord,
  CohortPoolRecord,
  CohortQueryRecord,
  CrossSiteBoxRecord,
  CrossSiteMessageRecord,
  CrossSiteRecord,
  Evaluation,
  PopulationReportRecord,
  SecaggCohortRecord,
  SecaggMessageRecord,
  SiteDecisionRecord,
  StatsContributionRecord,
  Federation,
  Invitation,
  ModelVersion,
  Round,
  Site,
  Study,
  Update,
} from './records';

/** Every key of T, checked exhaustively by the compiler (a missing or extra key is an error). */
function recordKeys<T>(keys: Record<keyof T, true>): readonly (keyof T)[] {
  return Object.keys(keys) as (keyof T)[];
}

export const API_TOKEN_KEYS = recordKeys<ApiToken>({
  id: true,
  name: true,
  role: true,
  studies: true,
  tokenHash: true,
  createdAt: true,
  revokedAt: true,
});
export const INVITATION_KEYS = recordKeys<Invitation>({
  id: true,
  siteName: true,
  tokenHash: true,
  createdAt: true,
  expiresAt: true,
  usedAt: true,
  siteId: true,
});
export const SITE_KEYS = recordKeys<Site>({
  id: true,
  name: true,
  signPublicKey: true,
  boxPublicKey: true,
  enrolledAt: true,
  revokedAt: true,
  lastSeenAt: true,
  missedRounds: true,
});
export const STUDY_KEYS = recordKeys<Study>({
  id: true,
  name: true,
  description: true,
  createdAt: true,
});
export const FEDERATION_KEYS = recordKeys<Federation>({
  id: true,
  name: true,
  studyId: true,
  plan: true,
  state: true,
  createdAt: true,
  updatedAt: true,
  currentRound: true,
  latestVersionId: true,
});
export const ROUND_KEYS = recordKeys<Round>({
  federationId: true,
  round: true,
  state: true,
  baseVersionId: true,
  selectedSiteIds: true,
  clientConfig: true,
  openedAt: true,
  deadlineAt: true,
  closedAt: true,
  failureReason: true,
  versionId: true,
});
export const UPDATE_KEYS = recordKeys<Update>({
  federationId: true,
  round: true,
  siteId: true,
  digest: true,
  envelope: true,
  numExamples: true,
  metrics: true,
  receivedAt: true,
});
export const VERSION_KEYS = recordKeys<ModelVersion>({
  id: true,
  federationId: true,
  parentVersionId: true,
  round: true,
  meta: true,
  signature: true,
  weightsSha256: true,
  createdAt: true,
});
export const EVALUATION_KEYS = recordKeys<Evaluation>({
  versionId: true,
  siteId: true,
  metrics: true,
  calibration: true,
  n: true,
  createdAt: true,
});
export const POPULATION_KEYS = recordKeys<PopulationReportRecord>({
  versionId: true,
  federationId: true,
  siteId: true,
  report: true,
  createdAt: true,
});
export const COHORT_QUERY_KEYS = recordKeys<CohortQueryRecord>({
  id: true,
  studyId: true,
  query: true,
  createdBy: true,
  createdAt: true,
});
export const COHORT_ANSWER_KEYS = recordKeys<CohortAnswerRecord>({
  queryId: true,
  siteId: true,
  answer: true,
  digest: true,
  createdAt: true,
});
export const COHORT_POOL_KEYS = recordKeys<CohortPoolRecord>({
  queryId: true,
  siteIds: true,
  length: true,
  state: true,
  result: true,
  createdAt: true,
});
export const COHORT_POOL_CONTRIBUTION_KEYS = recordKeys<CohortPoolContributionRecord>({
  queryId: true,
  siteId: true,
  masked: true,
  createdAt: true,
});
export const STATS_CONTRIBUTION_KEYS = recordKeys<StatsContributionRecord>({
  federationId: true,
  siteId: true,
  masked: true,
  createdAt: true,
});
export const SECAGG_MESSAGE_KEYS = recordKeys<SecaggMessageRecord>({
  federationId: true,
  round: true,
  siteId: true,
  kind: true,
  payload: true,
  createdAt: true,
});
export const SECAGG_COHORT_KEYS = recordKeys<SecaggCohortRecord>({
  federationId: true,
  round: true,
  siteIds: true,
  fixedAt: true,
});
export const SITE_DECISION_KEYS = recordKeys<SiteDecisionRecord>({
  federationId: true,
  siteId: true,
  planSha256: true,
  decision: true,
  decidedAt: true,
});
export const AUDIT_KEYS = recordKeys<AuditEntry>({
  seq: true,
  at: true,
  actor: true,
  action: true,
  subject: true,
  detail: true,
  prevHash: true,
  hash: true,
});
export const CROSS_SITE_KEYS = recordKeys<CrossSiteRecord>({
  federationId: true,
  globalVersionId: true,
  candidates: true,
  state: true,
  openedAt: true,
  modelsDeadlineAt: true,
  participants: true,
  resultsDeadlineAt: true,
  matrix: true,
  closedAt: true,
});
export const CROSS_SITE_MESSAGE_KEYS = recordKeys<CrossSiteMessageRecord>({
  federationId: true,
  siteId: true,
  kind: true,
  payload: true,
  createdAt: true,
});
export const CROSS_SITE_BOX_KEYS = recordKeys<CrossSiteBoxRecord>({
  federationId: true,
  sender: true,
  recipient: true,
  nonce: true,
  ciphertext: true,
});
