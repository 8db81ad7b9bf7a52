import { BINARY_MEDIA_TYPE, TwinfedError, tlsFailure, type Call, type Logger, type Operation } from '@twinfed/shared';
import { CoordinatorEndpoints } from './endpoints';
import { DEFAULT_BACKOFF, backoffDelay, isRetryableAnswer, parseRetryAfter, sleep, type BackoffPolicy } from './retry';
import { SiteAuthenticator, type SiteCredentials } from './site-auth';

export type { SiteCredentials } from './site-auth';

/** The `fetch` the client uses (injectable for tests). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Options of {@link HttpTransport}. */
export interface HttpTransportOptions {
  /**
   * Coordinator base URL, e.g. `https://coord.example.org` (a path prefix is allowed); or the URLs of several
   * replicas, tried in order on connection failures; or an endpoint list shared with the site's other transports.
   */
  baseUrl: string | readonly string[] | CoordinatorEndpoints;
  /**
   * Authenticates every request when given (MAC'd or signed, see {@link SiteAuthenticator}; pass the site's one
   * authenticator to share what it learns between transports); without it requests are anonymous (enrollment, public
   * keys).
   */
  credentials?: SiteCredentials | SiteAuthenticator;
  fetch?: FetchLike;
  /** Per-attempt timeout (default 30 s). */
  timeoutMs?: number;
  retry?: BackoffPolicy;
  logger?: Logger;
  /** Injectable clock, randomness and sleep (tests). */
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** What checks an answer: a zod schema, or anything with its `safeParse` (e.g. `CurrentRoundParser`). */
interface AnswerSchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false };
}

/** One request: a JSON body, a binary body, or none. */
interface HttpRequest {
  method: Call<Operation>['method'];
  path: string;
  json?: unknown;
  binary?: Uint8Array;
  signal?: AbortSignal;
}

/** A successful response's bytes and headers. */
interface HttpResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/**
 * Authenticated HTTP with timeouts and retries. Every attempt is signed or MAC'd afresh (new timestamp and nonce, so a
 * retry is never a replay); a MAC'd request that a coordinator without request MACs refuses is sent again at once,
 * signed (not counted as a retry). Network errors, timeouts, a proxy's 502/504 and the answers the error table makes
 * `retry-later` (429, 503) are retried with full-jitter exponential backoff, or after `Retry-After` plus up to half
 * of it again (jitter); other 4xx/5xx fail at once as the {@link TwinfedError} the server sent.
 * After the last retry, a network failure becomes `NETWORK`. A TLS certificate the client does not trust is
 * `TLS_UNTRUSTED` at once (retrying cannot help; the message says to pass `--ca <pem>`).
 */
export class HttpTransport {
  private readonly endpoints: CoordinatorEndpoints;
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;
  private readonly policy: BackoffPolicy;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sleepImpl: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly auth: SiteAuthenticator | undefined;

  constructor(private readonly options: HttpTransportOptions) {
    this.auth = options.credentials && SiteAuthenticator.of(options.credentials, options.logger);
    this.endpoints =
      options.baseUrl instanceof CoordinatorEndpoints ? options.baseUrl : new CoordinatorEndpoints(options.baseUrl);
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.policy = options.retry ?? DEFAULT_BACKOFF;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sleepImpl = options.sleep ?? sleep;
  }

  /** The coordinator's base URL in use (without trailing slash). */
  get baseUrl(): string {
    return this.endpoints.current;
  }

  /** Sends `req` and parses the JSON answer with `schema`. */
  async json<T>(req: HttpRequest, schema: AnswerSchema<T>): Promise<T> {
    const res = await this.send(req);
    let value: unknown;
    try {
      // The body's own bytes decoded in place (Buffer.from(Uint8Array) would copy them first).
      value = JSON.parse(Buffer.from(res.body.buffer, res.body.byteOffset, res.body.byteLength).toString('utf8'));
    } catch {
      throw new TwinfedError('INTERNAL', `The coordinator sent invalid JSON for ${req.method} ${req.path}.`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success)
      throw new TwinfedError(
        'INTERNAL',
        `The coordinator's answer to ${req.method} ${req.path} does not match the protocol.`,
      );
    return parsed.data;
  }

  /**
   * Sends `req`, retrying as described on the class; resolves with a 2xx response or throws. With several coordinator
   * URLs, a connection failure moves to the next URL at once; only a failure of every URL in turn costs a backoff
   * pause and one retry.
   */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const body: string | Uint8Array | undefined =
      req.binary ?? (req.json === undefined ? undefined : JSON.stringify(req.json));
    let untried = this.endpoints.all.length - 1;
    for (let attempt = 0; ;) {
      const last = attempt >= this.policy.retries;
      const baseUrl = this.endpoints.current;
      const url = new URL(req.path.replace(/^\/+/, ''), `${baseUrl}/`);
      const signedPath = url.pathname + url.search;
      let res: Response;
      let mac: boolean;
      try {
        ({ res, mac } = await this.attempt({ req, url: url.href, signedPath, body }));
      } catch (e) {
        if (req.signal?.aborted) throw new TwinfedError('NETWORK', 'The request was cancelled.', { cause: e });
        const untrusted = tlsFailure(e, baseUrl); // a refused certificate stays refused: no retry
        if (untrusted) throw untrusted;
        this.endpoints.failed(baseUrl);
        if (untried-- > 0) {
          this.options.logger?.warn(
            { from: baseUrl, to: this.endpoints.current, reason: describe(e) },
            'coordinator fail-over',
          );
          continue;
        }
        if (last)
          throw new TwinfedError('NETWORK', `The coordinator at ${baseUrl} could not be reached (${describe(e)}).`, {
            cause: e,
          });
        untried = this.endpoints.all.length - 1;
        await this.pause({ attempt: attempt++, req, reason: describe(e) });
        continue;
      }
      untried = this.endpoints.all.length - 1;
      const bytes = new Uint8Array(await res.arrayBuffer().catch(() => new ArrayBuffer(0)));
      if (res.ok) {
        this.auth?.answered(mac, res.status, undefined);
        return { status: res.status, headers: res.headers, body: bytes };
      }
      const err = errorFromResponse(res.status, bytes);
      if (this.auth?.answered(mac, res.status, err.code)) continue; // refused as MAC'd: again at once, signed
      if (!last && isRetryableAnswer(res.status, err.code) && !req.signal?.aborted) {
        await this.pause({
          attempt: attempt++,
          req,
          reason: `HTTP ${res.status}`,
          retryAfter: parseRetryAfter(res.headers.get('retry-after'), this.now()),
        });
        continue;
      }
      throw err;
    }
  }

  private async attempt(a: {
    req: HttpRequest;
    url: string;
    signedPath: string;
    body: string | Uint8Array | undefined;
  }): Promise<{ res: Response; mac: boolean }> {
    const headers: Record<string, string> = { accept: 'application/json, application/octet-stream' };
    if (a.req.binary) headers['content-type'] = BINARY_MEDIA_TYPE;
    else if (a.body !== undefined) headers['content-type'] = 'application/json';
    let mac = false;
    if (this.auth) {
      const authed = this.auth.requestHeaders({
        method: a.req.method,
        path: a.signedPath,
        body: a.body ?? '',
        now: this.now(),
      });
      Object.assign(headers, authed.headers);
      mac = authed.mac;
    }
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = a.req.signal ? AbortSignal.any([a.req.signal, timeout]) : timeout;
    const init: RequestInit = { method: a.req.method, headers, signal, redirect: 'error' };
    if (a.body !== undefined) init.body = a.body;
    return { res: await this.fetchImpl(a.url, init), mac };
  }

  private async pause(p: {
    attempt: number;
    req: HttpRequest;
    reason: string;
    retryAfter?: number | undefined;
  }): Promise<void> {
    // Retry-After is a minimum; up to half of it again is added at random so that the many sites a busy
    // coordinator turned away together do not all come back in the same instant.
    const delayMs =
      p.retryAfter !== undefined
        ? Math.min(this.policy.maxMs, Math.max(1, Math.floor(p.retryAfter * (1 + 0.5 * this.random()))))
        : backoffDelay({ attempt: p.attempt, policy: this.policy, random: this.random });
    this.options.logger?.debug(
      { method: p.req.method, path: p.req.path, attempt: p.attempt + 1, delayMs, reason: p.reason },
      'retrying request',
    );
    await this.sleepImpl(delayMs, p.req.signal);
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
    const cause = (e as { cause?: { code?: unknown } }).cause;
    if (cause && typeof cause.code === 'string') return cause.code;
    return e.message;
  }
  return String(e);
}

/** The {@link TwinfedError} an error response carries (falls back on the status when the body is not ours). */
function errorFromResponse(status: number, body: Uint8Array): TwinfedError {
  let json: unknown = null;
  try {
    json = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    // not JSON: a proxy's page, an empty body, …
  }
  const err = TwinfedError.fromBody(json, status);
  if (err.code !== 'INTERNAL' || (json as { error?: { code?: unknown } } | null)?.error?.code === 'INTERNAL')
    return err;
  if (status === 408) return new TwinfedError('REQUEST_TIMEOUT'); // Node's own request timeout answers without a body
  if (status === 429) return new TwinfedError('RATE_LIMITED');
  if (status === 503) return new TwinfedError('OVERLOADED');
  if (status === 404) return new TwinfedError('NOT_FOUND');
  if (status === 401) return new TwinfedError('UNAUTHENTICATED');
  if (status === 403) return new TwinfedError('FORBIDDEN');
  return err;
}
