import type { NextFunction, Request, Response } from 'express';
import { TwinfedError, sha256Hex } from '@twinfed/shared';
import { addressKey as clientAddressKey } from './client-address';

/** Options of {@link AuthFailureLimiter}. */
interface AuthFailureLimiterOptions {
  /** 401 answers one client address, or one credential, may collect per window before it is refused (0: no limit). */
  maxFailures: number;
  windowMs: number;
  now: () => number;
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
  if (req.header('x-twinfed-signature') !== undefined && site) return `site:${site.slice(0, 128)}`;
  const bearer = /^Bearer (\S{8,512})$/.exec(req.header('authorization') ?? '')?.[1];
  return bearer === undefined ? undefined : `token:${sha256Hex(bearer).slice(0, 32)}`;
}

/** What the socket layer needs: the same failure accounting as HTTP, by client address. */
export interface AuthFailureAccounting {
  /** True when this client address is over the limit (its further attempts are refused). */
  isLimited(address: string): boolean;
  /** Counts one failed authentication against this client address. */
  recordFailure(address: string): void;
}

interface Window {
  failures: number;
  resetAt: number;
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
 * Probes (/healthz, /readyz) are never counted or refused. Memory: one entry per failing key, dropped after its window.
 * Hand-written because express-rate-limit counts requests as they start, per address only.
 */
export class AuthFailureLimiter implements AuthFailureAccounting {
  private readonly windows = new Map<string, Window>();
  private readonly keys = new WeakMap<Request, Set<string>>();

  constructor(private readonly opts: AuthFailureLimiterOptions) {}

  private get on(): boolean {
    return this.opts.maxFailures > 0;
  }

  isLimited(address: string): boolean {
    return this.on && this.blockedFor(addressKey(address)) > 0;
  }

  recordFailure(address: string): void {
    if (this.on) this.record(addressKey(address));
  }

  /** Seconds until `key` may try again, or 0 when it is under the limit. */
  private blockedFor(key: string): number {
    const now = this.opts.now();
    const w = this.windows.get(key);
    if (!w) return 0;
    if (w.resetAt <= now) {
      this.windows.delete(key);
      return 0;
    }
    return w.failures >= this.opts.maxFailures ? Math.max(1, Math.ceil((w.resetAt - now) / 1000)) : 0;
  }

  private record(key: string): void {
    const at = this.opts.now();
    if (this.windows.size >= 10_000) for (const [k, w] of this.windows) if (w.resetAt <= at) this.windows.delete(k);
    const w = this.windows.get(key);
    if (!w || w.resetAt <= at) this.windows.set(key, { failures: 1, resetAt: at + this.opts.windowMs });
    else w.failures++;
    const failures = this.windows.get(key)?.failures ?? 0;
    if (failures === this.opts.maxFailures)
      this.opts.onTrip?.({ kind: key.startsWith('addr:') ? 'address' : 'credential', key, failures });
  }

  private refusal(res: Response, seconds: number): TwinfedError {
    res.setHeader('Retry-After', String(seconds));
    return new TwinfedError('RATE_LIMITED', 'Too many failed authentications; retry later.');
  }

  /** Adds a key the request's failure counts against (e.g. the enrollment-token prefix, known once the body is read). */
  private track(req: Request, key: string): void {
    this.keys.get(req)?.add(key);
  }

  /**
   * First middleware of every route: registers the request's address and header credential and counts a 401 against
   * them when the answer is sent; refuses (before any work) the enrollment route or an anonymous request from an
   * address over the limit.
   */
  gate(route: { roles: readonly string[]; authenticatesByBody?: boolean }) {
    return (req: Request, res: Response, next: NextFunction): void => {
      if (!this.on || req.path === '/healthz' || req.path === '/readyz') return next();
      const addr = addressKey(req.ip ?? req.socket.remoteAddress);
      const keys = new Set<string>([addr]);
      const credential = headerCredentialKey(req);
      if (credential) keys.add(credential);
      this.keys.set(req, keys);
      res.on('finish', () => {
        if (res.statusCode === 401) for (const k of keys) this.record(k);
      });
      const anonymous = credential === undefined && !route.roles.includes('public');
      if (route.authenticatesByBody || anonymous) {
        const wait = this.blockedFor(addr);
        if (wait > 0) return next(this.refusal(res, wait));
      }
      next();
    };
  }

  /** A failed authentication (401) becomes 429 when its address or credential is over the limit. */
  escalate(req: Request, res: Response, err: unknown): unknown {
    if (!this.on || !(err instanceof TwinfedError) || err.status !== 401) return err;
    const wait = Math.max(0, ...[...(this.keys.get(req) ?? [])].map((k) => this.blockedFor(k)));
    return wait > 0 ? this.refusal(res, wait) : err;
  }

  /** For the enrollment route, once its body is read: counts and refuses by the token's prefix. */
  enrollmentToken() {
    return (req: Request, res: Response, next: NextFunction): void => {
      if (!this.on) return next();
      const token = peekToken(req.body);
      if (token === undefined) return next();
      const key = `enroll:${token.slice(0, ENROLL_PREFIX_CHARS)}`;
      this.track(req, key);
      const wait = this.blockedFor(key);
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
