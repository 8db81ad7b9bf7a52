import {
  api,
  callOf,
  responseSchema,
  type BodyOf,
  type Call,
  type CohortAnswer,
  type CohortAnswerAck,
  type CohortPoolAck,
  type CohortPoolContribution,
  type CohortPoolView,
  type CoordinatorKeys,
  type CrossSiteAck,
  type CrossSiteAnswer,
  type CrossSiteResult,
  type CrossSiteSession,
  type CurrentRound,
  type EnrollRequest,
  type EnrollResponse,
  type EvaluationReport,
  type FederationView,
  type OfferedFederation,
  type Operation,
  type PlanDecision,
  type ResponseOf,
  type SecaggAck,
  type SecaggConsistency,
  type SecaggReveal,
  type SecaggShares,
  type SecaggState,
  type SecaggStateSection,
  type SecaggStateView,
  type SiteCohortQuery,
  type SiteDecisionView,
  type PrivacyLedger,
  type SiteView,
  type StatsAck,
  type StatsContribution,
  type StatsSession,
  type RecalibrationSession,
  type BaselineSession,
  type UploadAck,
  decodeRoundDownload,
  decodeSignedDownload,
  isTwinfedError,
  TwinfedError,
  type SignedDownload,
} from '@twinfed/shared';
import { CurrentRoundParser } from './current-round-parser';
import { SecaggStateParser } from './secagg-state-parser';
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

/** `GET …/rounds/current/download`: the current round (validated) and the latest version's signed download (unverified), if sent. */
export interface CurrentRoundWithVersion {
  readonly current: CurrentRound;
  /** The signed download of `current.federation.latestVersionId` (verify with `verifyDownloadedModel` before use). */
  readonly version?: Uint8Array;
}

/**
 * What the runner needs from the coordinator: the site-facing routes only. {@link CoordinatorClient}
 * implements it over HTTP; tests implement it in memory.
 */
export interface SiteApi {
  currentRound(federationId: string, options?: { signal?: AbortSignal }): Promise<CurrentRound>;
  /**
   * `GET …/rounds/current/download`: `currentRound` and, unless the site holds it (`have`), the latest version in the same
   * answer (optional: without it a site asks for the round and downloads the version apart).
   */
  currentRoundWithVersion?(
    federationId: string,
    options?: { have?: string | undefined; signal?: AbortSignal },
  ): Promise<CurrentRoundWithVersion>;
  model(versionId: string, options?: { signal?: AbortSignal }): Promise<SignedModelVersion>;
  modelWeights(versionId: string, options?: { signal?: AbortSignal }): Promise<ModelWeightsDownload>;
  /**
   * `GET /v1/models/:id/download`: the signed metadata and the weights in one answer, unverified (optional: without it a
   * site makes the two requests above).
   */
  modelDownload?(versionId: string, options?: { signal?: AbortSignal }): Promise<SignedDownload>;
  uploadUpdate(opts: {
    federationId: string;
    round: number;
    envelope: Uint8Array;
    signal?: AbortSignal;
  }): Promise<UploadAck>;
  postEvaluation(opts: { versionId: string; report: EvaluationReport; signal?: AbortSignal }): Promise<void>;
  /** `GET …/stats`: the secure sum of federated normalisation statistics (optional: without it a site falls back to per-site statistics). */
  statsSession?(federationId: string, options?: { signal?: AbortSignal }): Promise<StatsSession>;
  /** `POST …/stats`: this site's masked contribution to that sum. */
  contributeStats?(opts: {
    federationId: string;
    contribution: StatsContribution;
    signal?: AbortSignal;
  }): Promise<StatsAck>;
  /** `GET …/baseline`: a Cox federation's baseline secure sum after its last round (optional: without it no baseline). */
  baselineSession?(federationId: string, options?: { signal?: AbortSignal }): Promise<BaselineSession>;
  /** `POST …/baseline`: this site's masked event counts and risk-set sums. */
  contributeBaseline?(opts: {
    federationId: string;
    contribution: StatsContribution;
    signal?: AbortSignal;
  }): Promise<StatsAck>;
  /** `GET …/recalibration`: the federation's recalibration (plan option; optional: without it a site does not take part). */
  recalibrationSession?(federationId: string, options?: { signal?: AbortSignal }): Promise<RecalibrationSession>;
  /** `POST …/recalibration`: this site's masked histogram of the final version's held-out log-odds. */
  contributeRecalibration?(opts: {
    federationId: string;
    contribution: StatsContribution;
    signal?: AbortSignal;
  }): Promise<StatsAck>;
  /** The cross-site evaluation at the end of a federation whose plan asks for it: this site's session, its answer, its result. */
  crossSiteSession?(federationId: string, options?: { signal?: AbortSignal }): Promise<CrossSiteSession>;
  crossSiteAnswer?(opts: { federationId: string; body: CrossSiteAnswer; signal?: AbortSignal }): Promise<CrossSiteAck>;
  crossSiteResult?(opts: { federationId: string; body: CrossSiteResult; signal?: AbortSignal }): Promise<CrossSiteAck>;
  /** Secure aggregation of a round: its state, this site's key shares, its consistency signature, then its reveal (needed only when the plan asks for it). */
  secaggState?(opts: {
    federationId: string;
    round: number;
    /** `neighbourhood`: only this site's closed neighbourhood's keys with a sparse graph (coordinators that know it). */
    view?: SecaggStateView;
    /** The sections this site holds from an earlier read of the round: left out once fixed (named in `omitted`). */
    have?: readonly SecaggStateSection[];
    signal?: AbortSignal;
  }): Promise<SecaggState>;
  secaggShares?(opts: {
    federationId: string;
    round: number;
    body: SecaggShares;
    signal?: AbortSignal;
  }): Promise<SecaggAck>;
  secaggConsistency?(opts: {
    federationId: string;
    round: number;
    body: SecaggConsistency;
    signal?: AbortSignal;
  }): Promise<SecaggAck>;
  secaggReveal?(opts: {
    federationId: string;
    round: number;
    body: SecaggReveal;
    signal?: AbortSignal;
  }): Promise<SecaggAck>;
}

/** What a site reads of a served version: the signed metadata and its signature (the rest restates them, unsigned). */
const SignedPartSchema = api.model.get.response.schema.pick({ meta: true, signature: true });

/**
 * The site's HTTP client of the coordinator: signs every request with the site key (when credentials are
 * given), times out each attempt, retries transient failures (see {@link HttpTransport}) and validates every
 * answer against the shared schemas.
 */
export class CoordinatorClient implements SiteApi {
  private readonly http: HttpTransport;
  /** Set once the coordinator answered `rounds/current/download` NOT_FOUND (it predates the route): ask `rounds/current`. */
  private noRoundDownload = false;
  /** Parses the `rounds/current` answers, the plan once per change of it (see CurrentRoundParser). */
  private readonly currentRoundParser = new CurrentRoundParser();
  /** Checks the secure-aggregation state answers' long lists without zod's per-element parse (see SecaggStateParser). */
  private readonly secaggStateParser = new SecaggStateParser();

  constructor(options: HttpTransportOptions) {
    this.http = new HttpTransport(options);
  }

  /** The coordinator base URL. */
  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /** Sends `call` (with a JSON or binary body, if any) and parses the answer with the operation's response schema. */
  private call<O extends Operation>(
    c: Call<O>,
    body: { json?: BodyOf<O>; binary?: Uint8Array; signal?: AbortSignal | undefined } = {},
  ): Promise<ResponseOf<O>> {
    const { signal, ...payload } = body;
    return this.http.json(
      { method: c.method, path: c.path, ...payload, ...(signal ? { signal } : {}) },
      responseSchema(c.operation),
    );
  }

  /** `GET /v1/coordinator` (public): the coordinator's keys and fingerprint. */
  coordinatorKeys(): Promise<CoordinatorKeys> {
    return this.call(callOf(api.coordinatorKeys, 'get', {}));
  }

  /** `POST /v1/enroll` (anonymous, token-authenticated). */
  enroll(body: EnrollRequest): Promise<EnrollResponse> {
    return this.call(callOf(api.enroll, 'post', {}), { json: body });
  }

  /** `GET /v1/sites/self`: the coordinator's record of this site (checks that the key is accepted). */
  self(): Promise<SiteView> {
    return this.call(callOf(api.siteSelf, 'get', {}));
  }

  /** `GET /v1/federations/:id` (a member site): the federation with its plan and signed plan statement (verify before use). */
  federation(federationId: string, options: { signal?: AbortSignal } = {}): Promise<FederationView> {
    return this.call(callOf(api.federation, 'get', { fid: federationId }), options);
  }

  /** `GET /v1/sites/self/federations`: the running federations offered to this site, each with its decision on the current plan. */
  /** This site's privacy ledger: ε and δ of every federation it contributed to, and their composition. */
  privacyLedger(): Promise<PrivacyLedger> {
    return this.call(callOf(api.sitePrivacy, 'get', {}));
  }

  async siteFederations(options: { signal?: AbortSignal } = {}): Promise<OfferedFederation[]> {
    return (await this.call(callOf(api.siteFederations, 'get', {}), options)).federations;
  }

  /**
   * `PUT …/decision`: this site's decision about the federation's plan with digest `planSha256` (idempotent). Only
   * the decision and the hash are sent: who decided, and why, stay at the site. `PLAN_SUPERSEDED` when the plan changed.
   */
  federationDecision(opts: {
    federationId: string;
    decision: PlanDecision;
    planSha256: string;
    signal?: AbortSignal;
  }): Promise<SiteDecisionView> {
    return this.call(callOf(api.federationDecision, 'put', { fid: opts.federationId }), {
      json: { decision: opts.decision, planSha256: opts.planSha256 },
      signal: opts.signal,
    });
  }

  /** `GET …/rounds/current`: what this site should do now in `federationId`. */
  currentRound(federationId: string, options: { signal?: AbortSignal } = {}): Promise<CurrentRound> {
    const { method, path } = callOf(api.currentRound, 'get', { fid: federationId });
    return this.http.json({ method, path, ...options }, this.currentRoundParser);
  }

  /**
   * `GET …/rounds/current/download?have=`: the current round, validated as `rounds/current` is, and the latest version's
   * signed download unless it is `have`. A coordinator from before this route answers it `NOT_FOUND` (an unknown
   * federation is `UNKNOWN_FEDERATION`): then `rounds/current` alone, now and at every later call of this client, and
   * the site downloads the version apart — so a site upgraded before its coordinator keeps working.
   */
  async currentRoundWithVersion(
    federationId: string,
    options: { have?: string | undefined; signal?: AbortSignal } = {},
  ): Promise<CurrentRoundWithVersion> {
    const { have, signal } = options;
    if (!this.noRoundDownload) {
      const { method, path } = callOf(api.currentRoundDownload, 'get', { fid: federationId }, { have });
      try {
        const answer = decodeRoundDownload(
          (await this.http.send({ method, path, ...(signal ? { signal } : {}) })).body,
        );
        const current = this.currentRoundParser.safeParse(answer.current);
        if (!current.success)
          throw new TwinfedError(
            'INTERNAL',
            `The coordinator's answer to ${method} ${path} does not match the protocol.`,
          );
        return { current: current.data, ...(answer.version ? { version: answer.version } : {}) };
      } catch (e) {
        if (!isTwinfedError(e) || e.code !== 'NOT_FOUND') throw e;
        this.noRoundDownload = true;
      }
    }
    return { current: await this.currentRound(federationId, signal ? { signal } : {}) };
  }

  /** `GET /v1/models/:id`: signed metadata (verify before use). */
  model(versionId: string, options: { signal?: AbortSignal } = {}): Promise<SignedModelVersion> {
    const { method, path } = callOf(api.model, 'get', { vid: versionId });
    return this.http.json({ method, path, ...options }, SignedPartSchema);
  }

  /** `GET /v1/models/:id/weights`: the serialised weights (verify their digest before use). */
  async modelWeights(versionId: string, options: { signal?: AbortSignal } = {}): Promise<ModelWeightsDownload> {
    const { method, path } = callOf(api.modelWeights, 'get', { vid: versionId });
    const res = await this.http.send({ method, path, ...options });
    const etag = res.headers.get('etag')?.replace(/^W\//, '').replace(/"/g, '');
    return { bytes: res.body, etag: etag || undefined };
  }

  /**
   * `GET /v1/models/:id/download`: signed metadata and weights in one answer (verify both before use). A coordinator
   * from before this route answers it `NOT_FOUND` (an unknown version is `UNKNOWN_MODEL_VERSION`): then the two
   * separate answers, which the site verifies the same way — so a site upgraded before its coordinator keeps working.
   */
  async modelDownload(versionId: string, options: { signal?: AbortSignal } = {}): Promise<SignedDownload> {
    const { method, path } = callOf(api.modelDownload, 'get', { vid: versionId });
    try {
      return decodeSignedDownload((await this.http.send({ method, path, ...options })).body);
    } catch (e) {
      if (!isTwinfedError(e) || e.code !== 'NOT_FOUND') throw e;
    }
    const signed = await this.model(versionId, options);
    const { bytes } = await this.modelWeights(versionId, options);
    return { meta: signed.meta, signature: signed.signature, weights: bytes };
  }

  /** `POST …/rounds/:round/updates`: the sealed envelope; resolves once the coordinator stored it durably. */
  uploadUpdate(opts: {
    federationId: string;
    round: number;
    envelope: Uint8Array;
    signal?: AbortSignal;
  }): Promise<UploadAck> {
    return this.call(callOf(api.updates, 'post', { fid: opts.federationId, round: opts.round }), {
      binary: opts.envelope,
      signal: opts.signal,
    });
  }

  /** `POST /v1/models/:id/evaluations`: this site's metrics of a version on its held-out rows. */
  async postEvaluation(opts: { versionId: string; report: EvaluationReport; signal?: AbortSignal }): Promise<void> {
    // The answer (the stored evaluation) tells the site nothing it does not know: success is enough.
    const { method, path } = callOf(api.modelEvaluations, 'post', { vid: opts.versionId });
    await this.http.send({ method, path, json: opts.report, ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  /** `GET /v1/federations/:id/stats`: the cohort of the secure sum, who contributed, and the sum once complete. */
  statsSession(federationId: string, options: { signal?: AbortSignal } = {}): Promise<StatsSession> {
    return this.call(callOf(api.federationStats, 'get', { fid: federationId }), options);
  }

  /** `POST /v1/federations/:id/stats`: this site's masked statistics (idempotent for the same bytes). */
  contributeStats(opts: {
    federationId: string;
    contribution: StatsContribution;
    signal?: AbortSignal;
  }): Promise<StatsAck> {
    return this.call(callOf(api.federationStats, 'post', { fid: opts.federationId }), {
      json: opts.contribution,
      signal: opts.signal,
    });
  }

  /** `GET /v1/federations/:id/baseline`: a Cox federation's baseline secure sum (cohort, grid, the sum once complete). */
  baselineSession(federationId: string, options: { signal?: AbortSignal } = {}): Promise<BaselineSession> {
    return this.call(callOf(api.federationBaseline, 'get', { fid: federationId }), options);
  }

  /** `POST /v1/federations/:id/baseline`: this site's masked baseline vector (idempotent for the same bytes). */
  contributeBaseline(opts: {
    federationId: string;
    contribution: StatsContribution;
    signal?: AbortSignal;
  }): Promise<StatsAck> {
    return this.call(callOf(api.federationBaseline, 'post', { fid: opts.federationId }), {
      json: opts.contribution,
      signal: opts.signal,
    });
  }

  /** `GET /v1/federations/:id/recalibration`: the recalibration's state, cohort, who contributed, the fitted version. */
  recalibrationSession(federationId: string, options: { signal?: AbortSignal } = {}): Promise<RecalibrationSession> {
    return this.call(callOf(api.federationRecalibration, 'get', { fid: federationId }), options);
  }

  /** `POST /v1/federations/:id/recalibration`: this site's masked histogram (idempotent for the same bytes). */
  contributeRecalibration(opts: {
    federationId: string;
    contribution: StatsContribution;
    signal?: AbortSignal;
  }): Promise<StatsAck> {
    return this.call(callOf(api.federationRecalibration, 'post', { fid: opts.federationId }), {
      json: opts.contribution,
      signal: opts.signal,
    });
  }

  /** `GET …/cross-site/session`: the cross-site evaluation as this site sees it (phase, candidates, boxes for it). */
  crossSiteSession(federationId: string, options: { signal?: AbortSignal } = {}): Promise<CrossSiteSession> {
    return this.call(callOf(api.crossSiteSession, 'get', { fid: federationId }), options);
  }

  /** `POST …/cross-site/answer`: this site's sealed local model, or its refusal (idempotent). */
  crossSiteAnswer(opts: { federationId: string; body: CrossSiteAnswer; signal?: AbortSignal }): Promise<CrossSiteAck> {
    return this.call(callOf(api.crossSiteAnswer, 'post', { fid: opts.federationId }), {
      json: opts.body,
      signal: opts.signal,
    });
  }

  /** `POST …/cross-site/results`: this site's metrics of the global and every local model (idempotent). */
  crossSiteResult(opts: { federationId: string; body: CrossSiteResult; signal?: AbortSignal }): Promise<CrossSiteAck> {
    return this.call(callOf(api.crossSiteResults, 'post', { fid: opts.federationId }), {
      json: opts.body,
      signal: opts.signal,
    });
  }

  /** `GET …/rounds/:round/secagg`: the round's secure aggregation as this site sees it. */
  secaggState(opts: {
    federationId: string;
    round: number;
    view?: SecaggStateView;
    have?: readonly SecaggStateSection[];
    signal?: AbortSignal;
  }): Promise<SecaggState> {
    const { method, path } = callOf(
      api.secagg,
      'get',
      { fid: opts.federationId, round: opts.round },
      { view: opts.view, have: opts.have && opts.have.length > 0 ? opts.have.join(',') : undefined },
    );
    return this.http.json({ method, path, ...(opts.signal ? { signal: opts.signal } : {}) }, this.secaggStateParser);
  }

  /** `POST …/secagg/shares`: this site's round mask public key and share boxes (idempotent). */
  secaggShares(opts: {
    federationId: string;
    round: number;
    body: SecaggShares;
    signal?: AbortSignal;
  }): Promise<SecaggAck> {
    return this.call(callOf(api.secaggShares, 'post', { fid: opts.federationId, round: opts.round }), {
      json: opts.body,
      signal: opts.signal,
    });
  }

  /** `POST …/secagg/consistency`: this site's signature over the round as it saw it (idempotent). */
  secaggConsistency(opts: {
    federationId: string;
    round: number;
    body: SecaggConsistency;
    signal?: AbortSignal;
  }): Promise<SecaggAck> {
    return this.call(callOf(api.secaggConsistency, 'post', { fid: opts.federationId, round: opts.round }), {
      json: opts.body,
      signal: opts.signal,
    });
  }

  /** `POST …/secagg/reveal`: this site's shares of the survivors' seeds and the dropped sites' mask keys (idempotent). */
  secaggReveal(opts: {
    federationId: string;
    round: number;
    body: SecaggReveal;
    signal?: AbortSignal;
  }): Promise<SecaggAck> {
    return this.call(callOf(api.secaggReveal, 'post', { fid: opts.federationId, round: opts.round }), {
      json: opts.body,
      signal: opts.signal,
    });
  }

  /** `GET /v1/sites/self/cohort-queries`: the cohort queries this site has not answered (or all, with its answers' kinds). */
  async cohortQueries(state: 'pending' | 'all' = 'pending'): Promise<SiteCohortQuery[]> {
    return (await this.call(callOf(api.siteCohortQueries, 'get', {}, { state }))).queries;
  }

  /** `PUT /v1/cohort-queries/:qid/answers`: this site's answer (idempotent for the same answer; another one is ALREADY_EXISTS). */
  answerCohortQuery(queryId: string, answer: CohortAnswer): Promise<CohortAnswerAck> {
    return this.call(callOf(api.cohortAnswers, 'put', { qid: queryId }), { json: answer });
  }

  /** `GET /v1/cohort-queries/:qid/pool`: the query's secure pool (state, cohort, who contributed). */
  cohortPool(queryId: string): Promise<CohortPoolView> {
    return this.call(callOf(api.cohortPool, 'get', { qid: queryId }));
  }

  /** `POST /v1/cohort-queries/:qid/pool`: this site's masked vector (idempotent for the same bytes). */
  contributeCohortPool(queryId: string, contribution: CohortPoolContribution): Promise<CohortPoolAck> {
    return this.call(callOf(api.cohortPool, 'post', { qid: queryId }), { json: contribution });
  }
}
