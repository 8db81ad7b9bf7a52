import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import { MAC_HEADER, SIGNATURE_HEADER, TwinfedError, sha256Hex } from '@twinfed/shared';
import { addressKey as clientAddressKey } from './client-address';

/** Options of {@link AuthFailureLimiter}. */
interface AuthFailureLimiterOptions {
  /** 401 answers one client address, or one credential, may collect per window before it is refused (0: no limit). */
  maxFailures: number;
  windowMs: number;
  now: () => number;
  /** Where failures are counted; default {@link MemoryFailureCounts} (this process only). */
  counts?: FailureCounts;
  /** Where a count that could not be stored is reported. */
  onCountError?: (err: unknown) => void;
  /** Called once when a key's failures reach the limit in a window (the audit trail records the burst). */
  onTrip?: (trip: { kind: 'address' | 'credential'; key: string; failures: number }) => void;
}

/** Characters of an enrollment token that name it for the limiter (its type prefix and the first random characters). */
const ENROLL_PREFIX_CHARS = 16;

/** The limiter's key of a client address (see {@link clientAddressKey}; `req.ip` honours TWINFED_TRUST_PROXY). */
export function addressKey(ip: string | undefined): string {
  return `addr:${clientAddressKey(ip)}`;
}

/** The credential a request presents in its headers, as a limiter key (site id, or a hash of the bearer token). */
function headerCredentialKey(req: Request): string | undefined {
  const site = req.header('x-twinfed-site');
  if (siteProof(req) && site) return `site:${site.slice(0, 128)}`;
  const bearer = bearerOf(req);
  return bearer === undefined ? undefined : `token:${sha256Hex(bearer).slice(0, 32)}`;
}

const BEARER_RE = /^Bearer (\S{8,512})$/;

function bearerOf(req: Request): string | undefined {
  const authorization = req.headers.authorization;
  return authorization === undefined ? undefined : BEARER_RE.exec(authorization)?.[1];
}

/** Whether the request presents a credential in its headers (what {@link headerCredentialKey} would key), unhashed. */
function hasHeaderCredential(req: Request): boolean {
  const h = req.headers;
  return (siteProof(req) && !!h['x-twinfed-site']) || bearerOf(req) !== undefined;
}

/** Whether the request carries a site's signature or MAC header (well-formed or not). */
function siteProof(req: Request): boolean {
  return req.headers[SIGNATURE_HEADER] !== undefined || req.headers[MAC_HEADER] !== undefined;
}

/** What the socket layer needs: the same failure accounting as HTTP, by client address. */
export interface AuthFailureAccounting {
  /** True when this client address is over the limit (its further attempts are refused). */
  isLimited(address: string): Promise<boolean>;
  /** Counts one failed authentication against this client address. */
  recordFailure(address: string): Promise<void>;
}

/** The failures of one key in its current window. */
interface FailureWindow {
  failures: number;
  /** Milliseconds until the window ends (and the key starts from 0 again). */
  resetInMs: number;
}

/**
 * Failures counted per key in fixed windows (the first failure opens a window of `windowMs`). The limiter's only
 * state: in memory for one process ({@link MemoryFailureCounts}), or in Redis for replicas that share their counts.
 */
export interface FailureCounts {
  /** Counts one failure of `key`; resolves with its window after counting. */
  add(key: string): Promise<FailureWindow>;
  /** The window of `key`, or undefined when it has none (no failure within the window). */
  peek(key: string): Promise<FailureWindow | undefined>;
}

interface Window {
  failures: number;
  resetAt: number;
}

/** {@link FailureCounts} in this process's memory: one entry per failing key, dropped after its window. */
class MemoryFailureCounts implements FailureCounts {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly opts: { windowMs: number; now: () => number }) {}

  async add(key: string): Promise<FailureWindow> {
    const at = this.opts.now();
    if (this.windows.size >= 10_000) for (const [k, w] of this.windows) if (w.resetAt <= at) this.windows.delete(k);
    let w = this.windows.get(key);
    if (!w || w.resetAt <= at) this.windows.set(key, (w = { failures: 0, resetAt: at + this.opts.windowMs }));
    w.failures++;
    return { failures: w.failures, resetInMs: w.resetAt - at };
  }

  async peek(key: string): Promise<FailureWindow | undefined> {
    const now = this.opts.now();
    const w = this.windows.get(key);
    if (!w) return undefined;
    if (w.resetAt <= now) {
      this.windows.delete(key);
      return undefined;
    }
    return { failures: w.failures, resetInMs: w.resetAt - now };
  }
}

/**
 * Slows down guessing without letting anyone lock others out. Every 401 counts against the client address (IPv6 by
 * /64) and against the credential it presented (site id, bearer token, enrollment-token prefix). Over the limit:
 * - the enrollment route (the one route that authenticates by a secret in its body) is refused from that address, and
 *   for that token prefix, with 429 RATE_LIMITED before the body is read;
 * - a request with no credential to an authenticated route from that address gets 429 before any work;
 * - a request whose credential fails gets 429 instead of 401;
 * - a request whose credential is valid is served, whatever its address or its id's history: a valid site or the
 *   operator behind the same proxy or NAT as a guesser is never refused, and forging a site's id cannot lock it out.
 * Probes (/healthz, /readyz) are never counted or refused. The counts live in a {@link FailureCounts}: this process's
 * memory, or Redis shared by every replica (redis/failure-counts.ts), so that a client failing at one replica is counted
 * at all. Hand-written because express-rate-limit counts requests as they start, per address only.
 */
export class AuthFailureLimiter implements AuthFailureAccounting {
  private readonly counts: FailureCounts;
  /** The enrollment-token key of a request, once its body is read (the others are derived from the request itself). */
  private readonly enrollmentKeys = new WeakMap<Request, string>();

  constructor(private readonly opts: AuthFailureLimiterOptions) {
    this.counts = opts.counts ?? new MemoryFailureCounts({ windowMs: opts.windowMs, now: opts.now });
  }

  private get on(): boolean {
    return this.opts.maxFailures > 0;
  }

  async isLimited(address: string): Promise<boolean> {
    return this.on && (await this.blockedFor(addressKey(address))) > 0;
  }

  async recordFailure(address: string): Promise<void> {
    if (this.on) await this.record(addressKey(address));
  }

  /** Seconds until `key` may try again, or 0 when it is under the limit. */
  private async blockedFor(key: string): Promise<number> {
    let w: FailureWindow | undefined;
    try {
      w = await this.counts.peek(key);
    } catch (err) {
      this.opts.onCountError?.(err);
      return 0; // the count is unknown: let the request through rather than refuse everyone
    }
    if (!w || w.failures < this.opts.maxFailures) return 0;
    return Math.max(1, Math.ceil(w.resetInMs / 1000));
  }

  /** Counts a failure of `key`; a count that cannot be stored is reported, never thrown (the answer goes out). */
  private async record(key: string): Promise<void> {
    try {
      const { failures } = await this.counts.add(key);
      if (failures === this.opts.maxFailures)
        this.opts.onTrip?.({ kind: key.startsWith('addr:') ? 'address' : 'credential', key, failures });
    } catch (err) {
      this.opts.onCountError?.(err);
    }
  }

  private refusal(res: Response, seconds: number): TwinfedError {
    res.setHeader('Retry-After', String(seconds));
    return new TwinfedError('RATE_LIMITED', 'Too many failed authentications; retry later.');
  }

  /**
   * The keys a failure of `req` counts against: its client address, the credential in its headers and (enrollment)
   * the token prefix. Derived when a request fails, never for one that succeeds (parsing the address, hashing a token).
   */
  private keysOf(req: Request): string[] {
    const keys = [addressKey(req.ip ?? req.socket.remoteAddress)];
    const credential = headerCredentialKey(req);
    if (credential) keys.push(credential);
    const enrollment = this.enrollmentKeys.get(req);
    if (enrollment) keys.push(enrollment);
    return keys;
  }

  /**
   * First middleware of every route: refuses (before any work) the enrollment route or an anonymous request from an
   * address over the limit. Nothing is derived for other requests: a 401 is counted by {@link countFailures}
   * against the keys of the request then.
   */
  gate(route: { roles: readonly string[]; authenticatesByBody?: boolean }) {
    const isPublic = route.roles.includes('public');
    return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      if (!this.on || !(route.authenticatesByBody || (!isPublic && !hasHeaderCredential(req)))) return next();
      if (req.path === '/healthz' || req.path === '/readyz') return next();
      const wait = await this.blockedFor(addressKey(req.ip ?? req.socket.remoteAddress));
      next(wait > 0 ? this.refusal(res, wait) : undefined);
    };
  }

  /**
   * Error middleware before the error handler: a 401 is counted against the request's keys before it is answered, so
   * the client's next attempt (at this replica or another) already sees it.
   */
  countFailures(): ErrorRequestHandler {
    return async (err: unknown, req, _res, next) => {
      if (this.on && err instanceof TwinfedError && err.status === 401)
        await Promise.all(this.keysOf(req).map((k) => this.record(k)));
      next(err);
    };
  }

  /** A failed authentication (401) becomes 429 when its address or credential is over the limit. */
  async escalate(req: Request, res: Response, err: unknown): Promise<unknown> {
    if (!this.on || !(err instanceof TwinfedError) || err.status !== 401) return err;
    const waits = await Promise.all(this.keysOf(req).map((k) => this.blockedFor(k)));
    const wait = Math.max(0, ...waits);
    return wait > 0 ? this.refusal(res, wait) : err;
  }

  /** For the enrollment route, once its body is read: counts and refuses by the token's prefix. */
  enrollmentToken() {
    return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      if (!this.on) return next();
      const token = peekToken(req.body);
      if (token === undefined) return next();
      const key = `enroll:${token.slice(0, ENROLL_PREFIX_CHARS)}`;
      this.enrollmentKeys.set(req, key);
      const wait = await this.blockedFor(key);
      next(wait > 0 ? this.refusal(res, wait) : undefined);
    };
  }
}

/** The `token` string of a JSON body, if it has one (the handler validates the body properly). */
function peekToken(body: unknown): string | undefined {
  if (!Buffer.isBuffer(body) || body.length > 64 * 1024) return undefined;
  try {
    const v = (JSON.parse(body.toString('utf8')) as { token?: unknown } | null)?.token;
    return typeof v === 'string' && v.length > 0 ? v : undefined;
  } catch {
    return undefined;
  }
}
