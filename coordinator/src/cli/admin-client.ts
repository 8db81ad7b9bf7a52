/**
 * A small typed HTTP client for the coordinator's operator routes. Every response is validated with the
 * shared zod schemas; every error body becomes a {@link TwinfedError}; every request has a timeout.
 */
import { z } from 'zod';
import {
  api,
  callOf,
  responseSchema,
  TwinfedError,
  tlsFailure,
  type ApiTokenCreated,
  type ApiTokenView,
  type AuditListResponse,
  type AuditVerifyReport,
  type BodyOf,
  type Call,
  type CohortQueryView,
  type CohortResult,
  type CreateCohortQuery,
  type CoordinatorKeys,
  type CrossSiteView,
  type CreateApiToken,
  type CreateInvitation,
  type CreateStudy,
  type EvaluationView,
  type FederationEvaluations,
  type FederationView,
  type InvitationResponse,
  type ModelVersionView,
  type NormalizationView,
  type RecalibrationSession,
  type Operation,
  type PlanInput,
  type PopulationView,
  type PrivacyLedger,
  type ResponseOf,
  type RoundView,
  type SignedAuditHead,
  type SiteDecisionView,
  type SiteView,
  type StudyView,
} from '@twinfed/shared';
import { formatPath } from './report-error';

/** How the client is built. */
interface AdminClientOptions {
  /** Coordinator base URL, e.g. `http://127.0.0.1:8470`. */
  baseUrl: string;
  /** Bearer token, or a function that supplies it on first use (so public routes work without one). */
  token?: string | (() => Promise<string>);
  fetch?: typeof fetch;
  /** Timeout of JSON requests (default 30 s). */
  timeoutMs?: number;
  /** Timeout of weight downloads (default 10 min). */
  downloadTimeoutMs?: number;
  /** Receives one line per request and response (the CLI's `--debug`). */
  debug?: (line: string) => void;
}

/** Downloaded model weights and the ETag the coordinator sent with them (its sha256, unquoted). */
interface WeightsDownload {
  bytes: Uint8Array;
  etag: string | null;
}

type Method = Call<Operation>['method'];
interface RequestOptions {
  body?: unknown;
  auth?: boolean;
  binary?: boolean;
}

/** The typed client. Create one with {@link createAdminClient}. */
export type AdminClient = ReturnType<typeof createAdminClient>;

/** Builds a client for the operator routes of one coordinator. */
export function createAdminClient(options: AdminClientOptions) {
  const doFetch = options.fetch ?? fetch;
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const downloadTimeoutMs = options.downloadTimeoutMs ?? 600_000;
  const log = options.debug ?? (() => undefined);

  async function bearer(): Promise<string> {
    const t = typeof options.token === 'function' ? await options.token() : options.token;
    if (!t) throw new TwinfedError('UNAUTHENTICATED', 'No operator token: pass --token or set TWINFED_TOKEN.');
    return t;
  }

  async function send(method: Method, path: string, opts: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { accept: opts.binary ? 'application/octet-stream' : 'application/json' };
    if (opts.auth !== false) headers.authorization = `Bearer ${await bearer()}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const ms = opts.binary ? downloadTimeoutMs : timeoutMs;
    const started = Date.now();
    log(`→ ${method} ${base}${path}`);
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(ms),
      });
    } catch (e) {
      const name = (e as { name?: string } | null)?.name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new TwinfedError('NETWORK', `The coordinator at ${base} did not answer within ${ms / 1000} s.`, {
          cause: e,
        });
      }
      const untrusted = tlsFailure(e, base);
      if (untrusted) throw untrusted;
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (e as Error).message;
      throw new TwinfedError('NETWORK', `Could not reach the coordinator at ${base} (${why}).`, { cause: e });
    }
    log(`← ${res.status} ${method} ${path} (${Date.now() - started} ms)`);
    if (!res.ok) throw TwinfedError.fromBody(await res.json().catch(() => null), res.status);
    return res;
  }

  /** Sends a call of the contract (bearer token unless the operation is public) and parses the answer with its response schema. */
  async function json<O extends Operation>(call: Call<O>, input?: BodyOf<O>): Promise<ResponseOf<O>> {
    const { method, path } = call;
    const res = await send(method, path, {
      ...(input === undefined ? {} : { body: input }),
      auth: !call.operation.roles.includes('public'),
    });
    const schema = responseSchema(call.operation);
    const text = await res.text();
    let answer: unknown = null;
    try {
      answer = text === '' ? null : JSON.parse(text);
    } catch {
      throw new TwinfedError('INTERNAL', `The coordinator answered ${method} ${path} with a body that is not JSON.`);
    }
    const parsed = schema.safeParse(answer);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const where = first && first.path.length > 0 ? ` at ${formatPath(first.path)}` : '';
      throw new TwinfedError(
        'INTERNAL',
        `Unexpected response to ${method} ${path}${where}: ${first?.message ?? 'invalid'}.`,
        {
          details: { issues: parsed.error.issues },
        },
      );
    }
    return parsed.data;
  }

  /** Validates a request body locally, so a bad one fails before anything is sent (VALIDATION_FAILED with the issues). */
  async function checked<S extends z.ZodType>(schema: S, input: unknown, message: string): Promise<z.infer<S>> {
    const body = schema.safeParse(input);
    if (body.success) return body.data;
    const issues = body.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new TwinfedError('VALIDATION_FAILED', message, { details: issues });
  }

  /** Validates a request body locally against the operation's schema, so a bad one fails before anything is sent. */
  const body = <O extends Operation & { request: { body: 'json'; schema: z.ZodType } }>(
    operation: O,
    input: unknown,
    message: string,
  ): Promise<BodyOf<O>> => checked(operation.request.schema, input, message) as Promise<BodyOf<O>>;

  return {
    /** The coordinator's public keys and their fingerprint (public route). */
    coordinatorKeys: (): Promise<CoordinatorKeys> => json(callOf(api.coordinatorKeys, 'get', {})),
    /** Creates a one-time enrollment token for a new site. */
    createInvitation: async (input: CreateInvitation): Promise<InvitationResponse> =>
      json(
        callOf(api.invitations, 'post', {}),
        await body(api.invitations.post, input, 'The invitation is not valid.'),
      ),
    /** Creates a researcher or operator bearer token (its value is in the answer, once). */
    createToken: async (input: CreateApiToken): Promise<ApiTokenCreated> =>
      json(callOf(api.tokens, 'post', {}), await body(api.tokens.post, input, 'The token request is not valid.')),
    listTokens: async (): Promise<ApiTokenView[]> => (await json(callOf(api.tokens, 'get', {}))).tokens,
    revokeToken: (tokenId: string): Promise<ApiTokenView> => json(callOf(api.revokeToken, 'post', { tokenId }), {}),
    listSites: async (): Promise<SiteView[]> => (await json(callOf(api.adminSites, 'get', {}))).sites,
    /** Revokes a site; resolves to its updated record. */
    revokeSite: async (siteId: string): Promise<SiteView> =>
      (await json(callOf(api.revokeSite, 'post', { siteId }), {})).site,
    /** Creates a study. */
    createStudy: async (input: CreateStudy): Promise<StudyView> =>
      json(callOf(api.studies, 'post', {}), await body(api.studies.post, input, 'The study is not valid.')),
    /** The studies the token may read (an operator: all). */
    listStudies: async (): Promise<StudyView[]> => (await json(callOf(api.studies, 'get', {}))).studies,
    /** Creates a federation from a plan (validated again by the coordinator), in a study (default: the default study). */
    createFederation: (plan: PlanInput, study?: string): Promise<FederationView> =>
      json(callOf(api.federations, 'post', {}), { plan, ...(study === undefined ? {} : { study }) }),
    listFederations: async (): Promise<FederationView[]> =>
      (await json(callOf(api.federations, 'get', {}))).federations,
    getFederation: (id: string): Promise<FederationView> => json(callOf(api.federation, 'get', { fid: id })),
    /** Replaces the plan of a federation whose round 1 has not opened (validated again by the coordinator). */
    amendPlan: (id: string, plan: PlanInput): Promise<FederationView> =>
      json(callOf(api.federationPlan, 'put', { fid: id }), { plan }),
    /** Each enrolled, non-revoked site's decision on the federation's current plan. */
    federationDecisions: async (id: string): Promise<SiteDecisionView[]> =>
      (await json(callOf(api.federationDecisions, 'get', { fid: id }))).decisions,
    /** The cross-site evaluation of a federation: progress, and the coordinator-signed matrix once complete. */
    crossSite: (id: string): Promise<CrossSiteView> => json(callOf(api.crossSite, 'get', { fid: id })),
    /** The pooled normalisation statistics of a federated-normalisation federation. */
    normalization: (id: string): Promise<NormalizationView> => json(callOf(api.normalization, 'get', { fid: id })),
    /** The federation's recalibration (plan option `recalibration`; BAD_REQUEST without it). */
    recalibration: (id: string): Promise<RecalibrationSession> =>
      json(callOf(api.federationRecalibration, 'get', { fid: id })),
    listRounds: async (id: string): Promise<RoundView[]> => (await json(callOf(api.rounds, 'get', { fid: id }))).rounds,
    /** Every version of a federation with the sites' evaluations of it, in one request. */
    federationEvaluations: (id: string): Promise<FederationEvaluations> =>
      json(callOf(api.federationEvaluations, 'get', { fid: id })),
    listModels: async (filter: { federationId?: string } = {}): Promise<ModelVersionView[]> =>
      (await json(callOf(api.models, 'get', {}, { federation: filter.federationId }))).models,
    getModel: (versionId: string): Promise<ModelVersionView> => json(callOf(api.model, 'get', { vid: versionId })),
    listEvaluations: async (versionId: string): Promise<EvaluationView[]> =>
      (await json(callOf(api.modelEvaluations, 'get', { vid: versionId }))).evaluations,
    /** The site-level privacy ledger: per site, ε and δ per federation and their composition. */
    privacyLedger: (): Promise<PrivacyLedger> => json(callOf(api.privacyLedger, 'get', {})),
    /** The population view (latest report per site), of one federation or model version. */
    population: (filter: { federationId?: string; versionId?: string } = {}): Promise<PopulationView> =>
      json(callOf(api.population, 'get', {}, { federation: filter.federationId, version: filter.versionId })),
    /** Asks the sites of a study for cohort statistics (the query is validated locally first). */
    createCohortQuery: async (input: CreateCohortQuery): Promise<CohortQueryView> =>
      json(
        callOf(api.cohortQueries, 'post', {}),
        await body(api.cohortQueries.post, input, 'The cohort query is not valid.'),
      ),
    /** Cohort queries, of every study or of one. */
    listCohortQueries: async (filter: { studyId?: string } = {}): Promise<CohortQueryView[]> =>
      (await json(callOf(api.cohortQueries, 'get', {}, { study: filter.studyId }))).queries,
    /** Each site's answer to a cohort query and the combined table. */
    cohortResult: (queryId: string): Promise<CohortResult> => json(callOf(api.cohortQuery, 'get', { qid: queryId })),
    /** One page of the audit chain, oldest first, after `after` (0: from the start). */
    auditPage: (after: number, limit: number): Promise<AuditListResponse> =>
      json(callOf(api.audit, 'get', {}, { after: String(after), limit: String(limit) })),
    /** The coordinator's signed audit heads. */
    auditHeads: async (): Promise<SignedAuditHead[]> => (await json(callOf(api.auditHeads, 'get', {}))).heads,
    /** The coordinator's own verification of its trail (it also checks what only the store knows, e.g. a cut tail). */
    auditVerify: (): Promise<AuditVerifyReport> => json(callOf(api.auditVerify, 'get', {})),
    /** Downloads the weights binary of a version. */
    async downloadWeights(versionId: string): Promise<WeightsDownload> {
      const { method, path } = callOf(api.modelWeights, 'get', { vid: versionId });
      const res = await send(method, path, { binary: true });
      const bytes = new Uint8Array(await res.arrayBuffer());
      const etag = res.headers.get('etag');
      return { bytes, etag: etag ? etag.replace(/^W\//, '').replace(/^"|"$/g, '') : null };
    },
  };
}
