import { z } from 'zod';
import {
  CoordinatorKeysSchema,
  CurrentRoundSchema,
  EnrollResponseSchema,
  SecaggAckSchema,
  SecaggStateSchema,
  StatsAckSchema,
  StatsSessionSchema,
  UploadAckSchema,
  routes,
  type CoordinatorKeys,
  type CurrentRound,
  type EnrollRequest,
  type EnrollResponse,
  type EvaluationReport,
  type SecaggAck,
  type SecaggConsistency,
  type SecaggReveal,
  type SecaggShares,
  type SecaggState,
  type StatsAck,
  type StatsContribution,
  type StatsSession,
  type UploadAck,
} from '@twinfed/shared';
import { HttpTransport, type HttpTransportOptions } from './http';

/** `GET /v1/models/:id`: the version's metadata as the coordinator signed it, unverified. */
export interface SignedModelVersion {
  /** Untrusted until `verifyModelVersion` accepted it against the pinned key. */
  readonly meta: unknown;
  readonly signature: string;
}

/** The weights of a version as served: the serialised bytes and the ETag (their sha256, untrusted). */
export interface ModelWeightsDownload {
  readonly bytes: Uint8Array;
  readonly etag: string | undefined;
}

/**
 * What the runner needs from the coordinator: the site-facing routes only. {@link CoordinatorClient}
 * implements it over HTTP; tests implement it in memory.
 */
export interface SiteApi {
  currentRound(federationId: string, options?: { signal?: AbortSignal }): Promise<CurrentRound>;
  model(versionId: string, options?: { signal?: AbortSignal }): Promise<SignedModelVersion>;
  modelWeights(versionId: string, options?: { signal?: AbortSignal }): Promise<ModelWeightsDownload>;
  uploadUpdate(opts: { federationId: string; round: number; envelope: Uint8Array; signal?: AbortSignal }): Promise<UploadAck>;
  postEvaluation(opts: { versionId: string; report: EvaluationReport; signal?: AbortSignal }): Promise<void>;
  /** `GET …/stats`: the secure sum of federated normalisation statistics (optional: without it a site falls back to per-site statistics). */
  statsSession?(federationId: string, options?: { signal?: AbortSignal }): Promise<StatsSession>;
  /** `POST …/stats`: this site's masked contribution to that sum. */
  contributeStats?(opts: { federationId: string; contribution: StatsContribution; signal?: AbortSignal }): Promise<StatsAck>;
  /** Secure aggregation of a round: its state, this site's key shares, its consistency signature, then its reveal (needed only when the plan asks for it). */
  secaggState?(opts: { federationId: string; round: number; signal?: AbortSignal }): Promise<SecaggState>;
  secaggShares?(opts: { federationId: string; round: number; body: SecaggShares; signal?: AbortSignal }): Promise<SecaggAck>;
  secaggConsistency?(opts: { federationId: string; round: number; body: SecaggConsistency; signal?: AbortSignal }): Promise<SecaggAck>;
  secaggReveal?(opts: { federationId: string; round: number; body: SecaggReveal; signal?: AbortSignal }): Promise<SecaggAck>;
}

const SignedModelSchema = z.object({ meta: z.unknown(), signature: z.string().min(1).max(200) });
const AnySchema = z.unknown();

/**
 * The site's HTTP client of the coordinator: signs every request with the site key (when credentials are
 * given), times out each attempt, retries transient failures (see {@link HttpTransport}) and validates every
 * answer against the shared schemas.
 */
export class CoordinatorClient implements SiteApi {
  private readonly http: HttpTransport;

  constructor(options: HttpTransportOptions) {
    this.http = new HttpTransport(options);
  }

  /** The coordinator base URL. */
  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /** `GET /v1/coordinator` (public): the coordinator's keys and fingerprint. */
  coordinatorKeys(): Promise<CoordinatorKeys> {
    return this.http.json({ method: 'GET', path: routes.coordinatorKeys }, CoordinatorKeysSchema);
  }

  /** `POST /v1/enroll` (anonymous, token-authenticated). */
  enroll(body: EnrollRequest): Promise<EnrollResponse> {
    return this.http.json({ method: 'POST', path: routes.enroll, json: body }, EnrollResponseSchema);
  }

  /** `GET /v1/sites/self`: the coordinator's record of this site (checks that the key is accepted). */
  self(): Promise<unknown> {
    return this.http.json({ method: 'GET', path: routes.siteSelf }, AnySchema);
  }

  /** `GET …/rounds/current`: what this site should do now in `federationId`. */
  currentRound(federationId: string, options: { signal?: AbortSignal } = {}): Promise<CurrentRound> {
    return this.http.json({ method: 'GET', path: routes.currentRound(federationId), ...options }, CurrentRoundSchema);
  }

  /** `GET /v1/models/:id`: signed metadata (verify before use). */
  model(versionId: string, options: { signal?: AbortSignal } = {}): Promise<SignedModelVersion> {
    return this.http.json({ method: 'GET', path: routes.model(versionId), ...options }, SignedModelSchema);
  }

  /** `GET /v1/models/:id/weights`: the serialised weights (verify their digest before use). */
  async modelWeights(versionId: string, options: { signal?: AbortSignal } = {}): Promise<ModelWeightsDownload> {
    const res = await this.http.send({ method: 'GET', path: routes.modelWeights(versionId), ...options });
    const etag = res.headers.get('etag')?.replace(/^W\//, '').replace(/"/g, '');
    return { bytes: res.body, etag: etag || undefined };
  }

  /** `POST …/rounds/:round/updates`: the sealed envelope; resolves once the coordinator stored it durably. */
  uploadUpdate(opts: { federationId: string; round: number; envelope: Uint8Array; signal?: AbortSignal }): Promise<UploadAck> {
    const req = { method: 'POST' as const, path: routes.updates(opts.federationId, opts.round), binary: opts.envelope };
    return this.http.json(opts.signal ? { ...req, signal: opts.signal } : req, UploadAckSchema);
  }

  /** `POST /v1/models/:id/evaluations`: this site's metrics of a version on its held-out rows. */
  async postEvaluation(opts: { versionId: string; report: EvaluationReport; signal?: AbortSignal }): Promise<void> {
    const req = { method: 'POST' as const, path: routes.modelEvaluations(opts.versionId), json: opts.report };
    await this.http.send(opts.signal ? { ...req, signal: opts.signal } : req);
  }

  /** `GET /v1/federations/:id/stats`: the cohort of the secure sum, who contributed, and the sum once complete. */
  statsSession(federationId: string, options: { signal?: AbortSignal } = {}): Promise<StatsSession> {
    return this.http.json({ method: 'GET', path: routes.federationStats(federationId), ...options }, StatsSessionSchema);
  }

  /** `POST /v1/federations/:id/stats`: this site's masked statistics (idempotent for the same bytes). */
  contributeStats(opts: { federationId: string; contribution: StatsContribution; signal?: AbortSignal }): Promise<StatsAck> {
    const req = { method: 'POST' as const, path: routes.federationStats(opts.federationId), json: opts.contribution };
    return this.http.json(opts.signal ? { ...req, signal: opts.signal } : req, StatsAckSchema);
  }

  /** `GET …/rounds/:round/secagg`: the round's secure aggregation as this site sees it. */
  secaggState(opts: { federationId: string; round: number; signal?: AbortSignal }): Promise<SecaggState> {
    const req = { method: 'GET' as const, path: routes.secagg(opts.federationId, opts.round) };
    return this.http.json(opts.signal ? { ...req, signal: opts.signal } : req, SecaggStateSchema);
  }

  /** `POST …/secagg/shares`: this site's round mask public key and share boxes (idempotent). */
  secaggShares(opts: { federationId: string; round: number; body: SecaggShares; signal?: AbortSignal }): Promise<SecaggAck> {
    const req = { method: 'POST' as const, path: routes.secaggShares(opts.federationId, opts.round), json: opts.body };
    return this.http.json(opts.signal ? { ...req, signal: opts.signal } : req, SecaggAckSchema);
  }

  /** `POST …/secagg/consistency`: this site's signature over the round as it saw it (idempotent). */
  secaggConsistency(opts: { federationId: string; round: number; body: SecaggConsistency; signal?: AbortSignal }): Promise<SecaggAck> {
    const req = { method: 'POST' as const, path: routes.secaggConsistency(opts.federationId, opts.round), json: opts.body };
    return this.http.json(opts.signal ? { ...req, signal: opts.signal } : req, SecaggAckSchema);
  }

  /** `POST …/secagg/reveal`: this site's shares of the survivors' seeds and the dropped sites' mask keys (idempotent). */
  secaggReveal(opts: { federationId: string; round: number; body: SecaggReveal; signal?: AbortSignal }): Promise<SecaggAck> {
    const req = { method: 'POST' as const, path: routes.secaggReveal(opts.federationId, opts.round), json: opts.body };
    return this.http.json(opts.signal ? { ...req, signal: opts.signal } : req, SecaggAckSchema);
  }
}
