/**
 * The wire contract between site clients, operators, researchers and the coordinator:
 * protocol version, REST routes, media types and limits. Bodies are described by the zod schemas in `schemas/`.
 */

/** Version of the site ↔ coordinator protocol; carried in every envelope and checked on enrollment. */
export const PROTOCOL_VERSION = 1;

/** Media type of binary bodies (weights, update envelopes). */
export const BINARY_MEDIA_TYPE = 'application/octet-stream';

/** Default coordinator port. */
export const DEFAULT_COORDINATOR_PORT = 8470;

/** socket.io namespace that sites connect to for push events. */
export const SITE_NAMESPACE = '/sites';

/** REST routes, relative to the coordinator's base URL. Functions build concrete paths. */
export const routes = {
  /** GET: liveness. */
  healthz: '/healthz',
  /** GET: readiness (database writable, keys loaded). */
  readyz: '/readyz',
  /** GET: the coordinator's public keys and fingerprint (public). */
  coordinatorKeys: '/v1/coordinator',
  /** POST: enroll a site with a one-time token (public, token-authenticated). */
  enroll: '/v1/enroll',
  /** GET (site): the calling site's own record. */
  siteSelf: '/v1/sites/self',
  /** GET (operator, researcher) list; POST (operator) create a federation. */
  federations: '/v1/federations',
  federation: (fid: string) => `/v1/federations/${encodeURIComponent(fid)}`,
  /** GET (site): the round a site should work on now, with its instructions. */
  currentRound: (fid: string) => `/v1/federations/${encodeURIComponent(fid)}/rounds/current`,
  rounds: (fid: string) => `/v1/federations/${encodeURIComponent(fid)}/rounds`,
  /** GET (operator, researcher): every version of the federation with the sites' evaluations of it. */
  federationEvaluations: (fid: string) => `/v1/federations/${encodeURIComponent(fid)}/evaluations`,
  /** POST (site): upload an update envelope (binary). Idempotent. */
  updates: (fid: string, round: number) => `/v1/federations/${encodeURIComponent(fid)}/rounds/${round}/updates`,
  /** GET (operator, researcher): the pooled normalisation statistics of a federated-normalisation federation. */
  normalization: (fid: string) => `/v1/federations/${encodeURIComponent(fid)}/normalization`,
  /** Secure aggregation of a round (site): GET its state; POST `/shares`, then `/consistency`, then `/reveal`. */
  secagg: (fid: string, round: number) => `/v1/federations/${encodeURIComponent(fid)}/rounds/${round}/secagg`,
  secaggShares: (fid: string, round: number) => `/v1/federations/${encodeURIComponent(fid)}/rounds/${round}/secagg/shares`,
  secaggConsistency: (fid: string, round: number) => `/v1/federations/${encodeURIComponent(fid)}/rounds/${round}/secagg/consistency`,
  secaggReveal: (fid: string, round: number) => `/v1/federations/${encodeURIComponent(fid)}/rounds/${round}/secagg/reveal`,
  /** GET (site): the federation's secure sum of normalisation statistics; POST (site): this site's masked contribution. */
  federationStats: (fid: string) => `/v1/federations/${encodeURIComponent(fid)}/stats`,
  /** GET (operator, researcher): model versions. One version's metadata, weights: also sites. */
  models: '/v1/models',
  model: (vid: string) => `/v1/models/${encodeURIComponent(vid)}`,
  /** GET: the weights of a version, binary, with an ETag (the weights' sha256). */
  modelWeights: (vid: string) => `/v1/models/${encodeURIComponent(vid)}/weights`,
  /** POST (site): a site's evaluation of a version on its own held-out data. GET (researcher, operator): all of them. */
  modelEvaluations: (vid: string) => `/v1/models/${encodeURIComponent(vid)}/evaluations`,
  /** POST (site): the site's privacy-safe population report (risk tier × age band counts) for a model version. */
  populationReports: '/v1/population/reports',
  /** GET (operator, researcher): the population view across sites (optionally `?version=<id>`). */
  population: '/v1/population',
  /** Operator administration. */
  invitations: '/v1/admin/invitations',
  adminSites: '/v1/admin/sites',
  revokeSite: (sid: string) => `/v1/admin/sites/${encodeURIComponent(sid)}/revoke`,
  /** GET (operator): the audit chain, oldest first (`?after=<seq>&limit=<n>`, n ≤ 1000). */
  audit: '/v1/admin/audit',
  /** GET (operator): the coordinator's signed audit heads (one per model version publish), oldest first. */
  auditHeads: '/v1/admin/audit/heads',
  /** GET (operator): the coordinator verifies its whole chain and signed heads (an {@link AuditVerifyReport}). */
  auditVerify: '/v1/admin/audit/verify',
  /** POST (operator): create a researcher/operator bearer token; GET (operator): list them. */
  tokens: '/v1/admin/tokens',
  revokeToken: (tid: string) => `/v1/admin/tokens/${encodeURIComponent(tid)}/revoke`,
  /** GET (public): the researchers' read-only web dashboard (static; it reads the API with the researcher's token). */
  dashboard: '/dashboard',
} as const;

/** Limits the coordinator enforces; sites stay within them. */
export const limits = {
  /** Largest JSON body accepted. */
  maxJsonBytes: 1024 * 1024,
  /** Largest update envelope accepted (the coordinator may configure less). */
  maxUpdateBytes: 256 * 1024 * 1024,
  /** Accepted clock skew of a signed request. */
  requestWindowMs: 5 * 60 * 1000,
} as const;
