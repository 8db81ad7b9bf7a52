import type { NextFunction, Request, Response } from 'express';
import { TwinfedError } from '@twinfed/shared';
import type { Principal } from './auth';
import { addressKey } from './auth-failures';

/** Options of {@link Admission}. */
interface AdmissionOptions {
  /** Requests one site or one token may have in the building at once (0: no cap). */
  maxPerPrincipal: number;
  /** Requests without a credential (public routes: enrollment, keys, dashboard) one client address may have at once (0: no cap). */
  maxAnonymousPerAddress: number;
}

/**
 * Per-caller admission, after the headers are authenticated and before the body is read: a site or token may hold at
 * most `maxPerPrincipal` requests at once, an anonymous client address (IPv6 by /64, behind a trusted proxy the
 * forwarded address) at most `maxAnonymousPerAddress`. Beyond that: 429 RATE_LIMITED with Retry-After: 1, and the
 * connection is closed without reading the body. One caller can then hold at most its own share of body buffers
 * (cap × route limit), never every slot. Memory: one counter per caller with a request in flight.
 */
export class Admission {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly opts: AdmissionOptions) {}

  /** Requests in flight for `key` (tests, metrics). */
  count(key: string): number {
    return this.inFlight.get(key) ?? 0;
  }

  /** The middleware; `principalOf` gives the caller the header stage found. */
  middleware(principalOf: (req: Request) => Principal) {
    return (req: Request, res: Response, next: NextFunction): void => {
      const p = principalOf(req);
      const key =
        p.kind === 'site'
          ? `site:${p.siteId}`
          : p.kind === 'token'
            ? `token:${p.tokenId}`
            : addressKey(req.ip ?? req.socket.remoteAddress);
      const cap = p.kind === 'public' ? this.opts.maxAnonymousPerAddress : this.opts.maxPerPrincipal;
      const n = this.count(key);
      if (cap > 0 && n >= cap) {
        res.setHeader('Retry-After', '1');
        return next(new TwinfedError('RATE_LIMITED', 'Too many requests in progress from this caller; retry shortly.'));
      }
      this.inFlight.set(key, n + 1);
      res.once('close', () => {
        const left = this.count(key) - 1;
        if (left > 0) this.inFlight.set(key, left);
        else this.inFlight.delete(key);
      });
      next();
    };
  }
}
