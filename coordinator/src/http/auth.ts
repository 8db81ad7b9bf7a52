import type { Request } from 'express';
import { TwinfedError, fromB64, hashToken, parseAuthHeaders, verifyRequest } from '@twinfed/shared';
import type { Store } from '../store';
import type { Presence } from './presence';

/** Who may call a route. `public` needs nothing; `site` needs a signed request; the others a bearer token. */
export type Role = 'public' | 'site' | 'operator' | 'researcher';

/** The authenticated caller. */
export type Principal =
  | { kind: 'public' }
  | { kind: 'site'; siteId: string }
  | { kind: 'token'; role: 'operator' | 'researcher'; tokenId: string; name: string };

/** Options for {@link authenticate}. */
export interface AuthOptions {
  store: Store;
  requestWindowMs: number;
  now: () => number;
  /** Records `lastSeenAt` (throttled); without it every signed request writes it. */
  presence?: Presence;
}

/**
 * Authenticates a request for a route that admits `roles`. Site requests must carry a valid signature
 * over method, path, body digest, timestamp and nonce; the nonce is consumed (replays are rejected);
 * revoked and unknown sites are refused. Bearer tokens are looked up by hash.
 */
export async function authenticate(req: Request, roles: readonly Role[], opts: AuthOptions): Promise<Principal> {
  if (roles.includes('public')) return { kind: 'public' };
  const hasSiteHeaders = req.header('x-twinfed-signature') !== undefined;
  const bearer = /^Bearer (\S{8,512})$/.exec(req.header('authorization') ?? '')?.[1];
  if (hasSiteHeaders) {
    if (!roles.includes('site')) throw new TwinfedError('FORBIDDEN');
    return { kind: 'site', siteId: await authenticateSite(req, opts) };
  }
  if (bearer !== undefined) {
    const token = await opts.store.findApiTokenByHash(hashToken(bearer));
    if (!token || token.revokedAt) throw new TwinfedError('INVALID_TOKEN');
    if (!roles.includes(token.role)) throw new TwinfedError('FORBIDDEN');
    return { kind: 'token', role: token.role, tokenId: token.id, name: token.name };
  }
  throw new TwinfedError('UNAUTHENTICATED');
}

async function authenticateSite(req: Request, opts: AuthOptions): Promise<string> {
  const headers = req.headers as Record<string, string | string[] | undefined>;
  const claimed = parseAuthHeaders(headers);
  const site = await opts.store.getSite(claimed.siteId);
  if (!site) throw new TwinfedError('UNKNOWN_SITE');
  if (site.revokedAt) throw new TwinfedError('SITE_REVOKED');
  const now = opts.now();
  const body = Buffer.isBuffer(req.body) ? new Uint8Array(req.body) : new Uint8Array(0);
  const verified = verifyRequest({
    method: req.method,
    path: req.originalUrl,
    body,
    headers,
    signPublicKey: fromB64(site.signPublicKey),
    now,
    windowMs: opts.requestWindowMs,
  });
  const fresh = await opts.store.useNonce({
    siteId: site.id,
    nonce: verified.nonce,
    expiresAt: new Date(verified.timestamp + opts.requestWindowMs).toISOString(),
    now: new Date(now).toISOString(),
  });
  if (!fresh) throw new TwinfedError('REPLAYED_REQUEST');
  if (opts.presence) await opts.presence.seen(site.id);
  else await opts.store.touchSite(site.id, new Date(now).toISOString());
  return site.id;
}

/** The principal attached to a request by the router. */
export function principalOf(req: Request): Principal {
  const p = (req as Request & { principal?: Principal }).principal;
  if (!p) throw new TwinfedError('UNAUTHENTICATED');
  return p;
}

/** The site id of a site-authenticated request (FORBIDDEN for any other caller). */
export function siteOf(req: Request): string {
  const p = principalOf(req);
  if (p.kind !== 'site') throw new TwinfedError('FORBIDDEN');
  return p.siteId;
}

/** Who did it, for the audit log: `operator:<name>`, `researcher:<name>`, `site:<id>` or `public`. */
export function actorOf(req: Request): string {
  const p = principalOf(req);
  return p.kind === 'token' ? `${p.role}:${p.name}` : p.kind === 'site' ? `site:${p.siteId}` : 'public';
}
