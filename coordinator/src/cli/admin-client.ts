/**
 * A small typed HTTP client for the coordinator's operator routes. Every response is validated with the
 * shared zod schemas; every error body becomes a {@link TwinfedError}; every request has a timeout.
 */
import { z } from 'zod';
import {
  AuditListResponseSchema,
  AuditVerifyReportSchema,
  SignedAuditHeadSchema,
  type AuditListResponse,
  type AuditVerifyReport,
  type SignedAuditHead,
  ApiTokenCreatedSchema,
  ApiTokenViewSchema,
  CoordinatorKeysSchema,
  CreateApiTokenSchema,
  CreateInvitationSchema,
  EvaluationViewSchema,
  FederationEvaluationsSchema,
  FederationViewSchema,
  InvitationResponseSchema,
  NormalizationViewSchema,
  PopulationViewSchema,
  RoundViewSchema,
  SiteViewSchema,
  TwinfedError,
  routes,
  tlsFailure,
  type ApiTokenCreated,
  type ApiTokenView,
  type CoordinatorKeys,
  type CreateApiToken,
  type CreateInvitation,
  type EvaluationView,
  type FederationEvaluations,
  type FederationView,
  type InvitationResponse,
  type NormalizationView,
  type PlanInput,
  type RoundView,
  type PopulationView,
  type SiteView,
} from '@twinfed/shared';
import { ModelVersionViewSchema, type ModelVersionView } from './model-version';
import { formatPath } from './report-error';

/** How the client is built. */
export interface AdminClientOptions {
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
export interface WeightsDownload {
  bytes: Uint8Array;
  etag: string | null;
}

type Method = 'GET' | 'POST';
interface RequestOptions {
  body?: unknown;
  auth?: boolean;
  binary?: boolean;
}

/** A list either as a bare array or wrapped as `{ [key]: [...] }` (the coordinator wraps). */
function listOf<T extends z.ZodType>(item: T, key: string) {
  const unwrap = (v: unknown): unknown => (v !== null && typeof v === 'object' && !Array.isArray(v) && key in v ? (v as Record<string, unknown>)[key] : v);
  return z.preprocess(unwrap, z.array(item));
}

const SiteListSchema = listOf(SiteViewSchema, 'sites');
const TokenListSchema = listOf(ApiTokenViewSchema, 'tokens');
const FederationListSchema = listOf(FederationViewSchema, 'federations');
const RoundListSchema = listOf(RoundViewSchema, 'rounds');
const ModelListSchema = listOf(ModelVersionViewSchema, 'models');
const EvaluationListSchema = listOf(EvaluationViewSchema, 'evaluations');
/** Revocation may answer with the updated site or with nothing (204). */
const RevokeResponseSchema = z.union([SiteViewSchema, z.object({ site: SiteViewSchema }).transform((o) => o.site), z.null()]);

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
        throw new TwinfedError('NETWORK', `The coordinator at ${base} did not answer within ${ms / 1000} s.`, { cause: e });
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

  async function json<T extends z.ZodType>(method: Method, path: string, schema: T, opts: RequestOptions = {}): Promise<z.infer<T>> {
    const res = await send(method, path, opts);
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      throw new TwinfedError('INTERNAL', `The coordinator answered ${method} ${path} with a body that is not JSON.`);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const where = first && first.path.length > 0 ? ` at ${formatPath(first.path)}` : '';
      throw new TwinfedError('INTERNAL', `Unexpected response to ${method} ${path}${where}: ${first?.message ?? 'invalid'}.`, {
        details: { issues: parsed.error.issues },
      });
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

  return {
    /** The coordinator's public keys and their fingerprint (public route). */
    coordinatorKeys: (): Promise<CoordinatorKeys> => json('GET', routes.coordinatorKeys, CoordinatorKeysSchema, { auth: false }),
    /** Creates a one-time enrollment token for a new site. */
    createInvitation: (input: CreateInvitation): Promise<InvitationResponse> =>
      checked(CreateInvitationSchema, input, 'The invitation is not valid.').then((body) => json('POST', routes.invitations, InvitationResponseSchema, { body })),
    /** Creates a researcher or operator bearer token (its value is in the answer, once). */
    createToken: (input: CreateApiToken): Promise<ApiTokenCreated> =>
      checked(CreateApiTokenSchema, input, 'The token request is not valid.').then((body) => json('POST', routes.tokens, ApiTokenCreatedSchema, { body })),
    listTokens: (): Promise<ApiTokenView[]> => json('GET', routes.tokens, TokenListSchema),
    revokeToken: (tokenId: string): Promise<ApiTokenView> => json('POST', routes.revokeToken(tokenId), ApiTokenViewSchema, { body: {} }),
    listSites: (): Promise<SiteView[]> => json('GET', routes.adminSites, SiteListSchema),
    /** Revokes a site; resolves to its updated record when the coordinator returns one. */
    revokeSite: (siteId: string): Promise<SiteView | null> => json('POST', routes.revokeSite(siteId), RevokeResponseSchema, { body: {} }),
    /** Creates a federation from a plan (validated again by the coordinator). */
    createFederation: (plan: PlanInput): Promise<FederationView> => json('POST', routes.federations, FederationViewSchema, { body: { plan } }),
    listFederations: (): Promise<FederationView[]> => json('GET', routes.federations, FederationListSchema),
    getFederation: (id: string): Promise<FederationView> => json('GET', routes.federation(id), FederationViewSchema),
    /** The pooled normalisation statistics of a federated-normalisation federation. */
    normalization: (id: string): Promise<NormalizationView> => json('GET', routes.normalization(id), NormalizationViewSchema),
    listRounds: (id: string): Promise<RoundView[]> => json('GET', routes.rounds(id), RoundListSchema),
    /** Every version of a federation with the sites' evaluations of it, in one request. */
    federationEvaluations: (id: string): Promise<FederationEvaluations> => json('GET', routes.federationEvaluations(id), FederationEvaluationsSchema),
    listModels(filter: { federationId?: string } = {}): Promise<ModelVersionView[]> {
      const q = filter.federationId ? `?federation=${encodeURIComponent(filter.federationId)}` : '';
      return json('GET', `${routes.models}${q}`, ModelListSchema);
    },
    getModel: (versionId: string): Promise<ModelVersionView> => json('GET', routes.model(versionId), ModelVersionViewSchema),
    listEvaluations: (versionId: string): Promise<EvaluationView[]> => json('GET', routes.modelEvaluations(versionId), EvaluationListSchema),
    /** The population view (latest report per site), of one federation or model version. */
    population(filter: { federationId?: string; versionId?: string } = {}): Promise<PopulationView> {
      const q = new URLSearchParams({ ...(filter.federationId ? { federation: filter.federationId } : {}), ...(filter.versionId ? { version: filter.versionId } : {}) }).toString();
      return json('GET', `${routes.population}${q ? `?${q}` : ''}`, PopulationViewSchema);
    },
    /** One page of the audit chain, oldest first, after `after` (0: from the start). */
    auditPage: (after: number, limit: number): Promise<AuditListResponse> =>
      json('GET', `${routes.audit}?${new URLSearchParams({ after: String(after), limit: String(limit) }).toString()}`, AuditListResponseSchema),
    /** The coordinator's signed audit heads. */
    auditHeads: async (): Promise<SignedAuditHead[]> => (await json('GET', routes.auditHeads, z.object({ heads: z.array(SignedAuditHeadSchema) }))).heads,
    /** The coordinator's own verification of its trail (it also checks what only the store knows, e.g. a cut tail). */
    auditVerify: (): Promise<AuditVerifyReport> => json('GET', routes.auditVerify, AuditVerifyReportSchema),
    /** Downloads the weights binary of a version. */
    async downloadWeights(versionId: string): Promise<WeightsDownload> {
      const res = await send('GET', routes.modelWeights(versionId), { binary: true });
      const bytes = new Uint8Array(await res.arrayBuffer());
      const etag = res.headers.get('etag');
      return { bytes, etag: etag ? etag.replace(/^W\//, '').replace(/^"|"$/g, '') : null };
    },
  };
}
