import type { Request } from 'express';
import {
  TwinfedError,
  assertFresh,
  fromB64,
  hashToken,
  nonceExpiresAt,
  readSiteAuth,
  sha256Hex,
  verifyRequest,
  verifyRequestMac,
  type SiteAuth,
} from '@twinfed/shared';
import type { Site, Store } from '../store';
import type { Presence } from './presence';
import type { SiteMacKeys } from './site-mac-keys';

/** Who may call a route. `public` needs nothing; `site` a signed or MAC'd request; the others a bearer token. */
export type Role = 'public' | 'site' | 'operator' | 'researcher';

/** The authenticated caller. */
export type Principal =
  | { kind: 'public' }
  /** `site` is the record read when the request was authenticated (not revoked then), for checks that need it. */
  | { kind: 'site'; siteId: string; site: Site }
  /** `studies`: the token's studies, read when the request was authenticated (what they allow: study-scope.ts). */
  | { kind: 'token'; role: 'operator' | 'researcher'; tokenId: string; name: string; studies: readonly string[] };

/** Options for {@link authenticateHeaders} and {@link authenticateBody}. */
export interface AuthOptions {
  store: Store;
  requestWindowMs: number;
  now: () => number;
  /** Records `lastSeenAt` (throttled); without it every signed request writes it. */
  presence?: Presence;
  /** The sites' request MAC keys; without them a MAC'd request never verifies (`BAD_SIGNATURE`). */
  macKeys?: SiteMacKeys;
}

/** What remains to check once the body is read. */
export type BodyCheck =
  | { kind: 'none' }
  /** The signature was verified against this digest from the headers: the body must have it. */
  | { kind: 'digest'; sha256: string }
  /** No digest header: the signature (or MAC) is verified over the body, then the nonce consumed. */
  | { kind: 'signature'; auth: SiteAuth; site: Site };

/** The result of the header stage: who the caller is (as far as headers prove) and what the body must still satisfy. */
interface HeaderAuth {
  principal: Principal;
  body: BodyCheck;
}

/**
 * Authentication from the headers alone, before a byte of the body is read. Bearer tokens are looked up by hash
 * (unknown or revoked: INVALID_TOKEN). A site request, signed or MAC'd (request-signing.ts, request-mac.ts; both at
 * once: UNAUTHENTICATED), must name an enrolled, unrevoked site and carry a fresh timestamp; when it carries the body
 * digest header (every twinfed client sends it; routes with binary bodies require it) the signature or MAC is verified
 * and the nonce consumed here, so only authenticated requests get their body read. Every site route takes either form:
 * none keeps a request's signature as evidence (what must prove its origin later — update headers, secure-aggregation
 * statements — carries its own signature).
 */
export async function authenticateHeaders(
  req: Request,
  roles: readonly Role[],
  opts: AuthOptions & { requireDigest?: boolean },
): Promise<HeaderAuth> {
  if (roles.includes('public')) return { principal: { kind: 'public' }, body: { kind: 'none' } };
  const auth = readSiteAuth(req.headers);
  const bearer = /^Bearer (\S{8,512})$/.exec(req.header('authorization') ?? '')?.[1];
  if (auth !== undefined) {
    if (!roles.includes('site')) throw new TwinfedError('FORBIDDEN');
    return authenticateSiteHeaders(req, auth, opts);
  }
  if (bearer !== undefined) {
    const token = await opts.store.findApiTokenByHash(hashToken(bearer));
    if (!token || token.revokedAt) throw new TwinfedError('INVALID_TOKEN');
    if (!roles.includes(token.role)) throw new TwinfedError('FORBIDDEN');
    return {
      principal: { kind: 'token', role: token.role, tokenId: token.id, name: token.name, studies: token.studies },
      body: { kind: 'none' },
    };
  }
  throw new TwinfedError('UNAUTHENTICATED');
}

/** The header stage of a site request, its auth headers read once (`readSiteAuth`) and handed to the verifier. */
async function authenticateSiteHeaders(
  req: Request,
  auth: SiteAuth,
  opts: AuthOptions & { requireDigest?: boolean },
): Promise<HeaderAuth> {
  const claimed = auth.fields;
  const now = opts.now();
  assertFresh({ timestamp: claimed.timestamp, now, windowMs: opts.requestWindowMs });
  const digest = auth.digest;
  if (digest === undefined && opts.requireDigest)
    throw new TwinfedError('UNAUTHENTICATED', 'This route needs the x-twinfed-content-sha256 header.');
  const site = await opts.store.getSite(claimed.siteId);
  if (!site) throw new TwinfedError('UNKNOWN_SITE');
  if (site.revokedAt) throw new TwinfedError('SITE_REVOKED');
  const principal: Principal = { kind: 'site', siteId: site.id, site };
  if (digest === undefined) return { principal, body: { kind: 'signature', auth, site } };
  const verified = verifySite(req, { auth, site, bodySha256: digest }, now, opts);
  await consumeNonce(site.id, verified, opts);
  return { principal, body: { kind: 'digest', sha256: digest } };
}

/** Verifies the request's signature or MAC for `site`, over the body or the body digest header. */
function verifySite(
  req: Request,
  o: { auth: SiteAuth; site: Site } & ({ body: Uint8Array } | { bodySha256: string }),
  now: number,
  opts: AuthOptions,
): { nonce: string; timestamp: number } {
  const common = {
    method: req.method,
    path: req.originalUrl,
    ...('body' in o ? { body: o.body } : { bodySha256: o.bodySha256 }),
    auth: o.auth,
    now,
    windowMs: opts.requestWindowMs,
  };
  if (o.auth.scheme === 'mac') return verifyRequestMac({ ...common, key: opts.macKeys?.keyFor(o.site) ?? null });
  return verifyRequest({ ...common, signPublicKey: fromB64(o.site.signPublicKey) });
}

/** The body stage: the body matches the signed digest, or (without one) the signature or MAC verifies over it. */
export async function authenticateBody(
  req: Request,
  check: BodyCheck,
  body: Uint8Array,
  opts: AuthOptions,
): Promise<void> {
  if (check.kind === 'none') return;
  if (check.kind === 'digest') {
    if (sha256Hex(body) !== check.sha256)
      throw new TwinfedError('BAD_SIGNATURE', 'The body does not match its signed digest.');
    return;
  }
  const verified = verifySite(req, { auth: check.auth, site: check.site, body }, opts.now(), opts);
  await consumeNonce(check.site.id, verified, opts);
}

async function consumeNonce(
  siteId: string,
  verified: { nonce: string; timestamp: number },
  opts: AuthOptions,
): Promise<void> {
  const now = new Date(opts.now()).toISOString();
  // The site's presence (throttled per site) is written by the nonce's own statement when one is due.
  const seenAt = opts.presence ? opts.presence.due(siteId) : now;
  const fresh = await opts.store.useNonce({
    siteId,
    nonce: verified.nonce,
    // Kept strictly longer than the request can be fresh: a replay always meets the nonce.
    expiresAt: new Date(nonceExpiresAt(verified.timestamp, opts.requestWindowMs)).toISOString(),
    now,
    ...(seenAt === undefined ? {} : { seenAt }),
  });
  if (!fresh) throw new TwinfedError('REPLAYED_REQUEST');
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
