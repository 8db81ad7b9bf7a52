/**
 * Names and parsing of the headers that authenticate a site's HTTP request. Parsing does not verify:
 * the server reads the site id first, looks up that site's key, then calls `verifyRequest`.
 */
import { TwinfedError } from '../errors';
import { fromB64 } from '../crypto/encoding';
import { KEY_BYTES } from '../crypto/identity';
import { ID_RE } from '../schemas/ids';

/** Header carrying the site id. */
export const SITE_HEADER = 'x-twinfed-site';
/** Header carrying the signing time, integer milliseconds since the Unix epoch. */
export const TIMESTAMP_HEADER = 'x-twinfed-timestamp';
/** Header carrying the request nonce, base64 of 16 random bytes. */
export const NONCE_HEADER = 'x-twinfed-nonce';
/** Header carrying the base64 Ed25519 signature. */
export const SIGNATURE_HEADER = 'x-twinfed-signature';
/** Header carrying the base64 HMAC-SHA256 under the site's request MAC key, instead of a signature (request-mac.ts). */
export const MAC_HEADER = 'x-twinfed-mac';
/** Bytes of a request or handshake MAC. */
export const AUTH_MAC_BYTES = 32;

/**
 * Header carrying the SHA-256 (lowercase hex) of the body the signature covers. Optional, but when present the server
 * verifies the signature from the headers alone, before reading the body, and then checks the body against it.
 */
export const CONTENT_SHA256_HEADER = 'x-twinfed-content-sha256';

/**
 * How much longer than the freshness window a used nonce is remembered. A request is fresh only while
 * |now − timestamp| < window, so a nonce kept until timestamp + window + margin outlives every instant at which
 * its request could be accepted, whatever the clock granularity or the pruning schedule.
 */
const NONCE_RETENTION_MARGIN_MS = 60_000;

/** When a nonce used by a request signed at `timestamp` may be forgotten (strictly after its request goes stale). */
export function nonceExpiresAt(timestamp: number, windowMs: number): number {
  return timestamp + windowMs + NONCE_RETENTION_MARGIN_MS;
}

/** Random bytes in a request or handshake nonce. */
export const AUTH_NONCE_BYTES = 16;

/** Request headers as node/express (`IncomingHttpHeaders`) or a plain record gives them, or a fetch `Headers`. */
export type HeaderSource =
  Readonly<Record<string, string | readonly string[] | undefined>> | { get(name: string): string | null };

/** The authentication fields of a request, parsed but NOT verified. */
export interface AuthFields {
  readonly siteId: string;
  readonly timestamp: number;
  readonly nonce: string;
  readonly signature: string;
}

/** The auth headers' values as sent, each read once (a repeated one: `UNAUTHENTICATED`). */
interface RawAuthHeaders {
  site?: string;
  timestamp?: string;
  nonce?: string;
  signature?: string;
  mac?: string;
  digest?: string;
}

const SLOTS: ReadonlyMap<string, keyof RawAuthHeaders> = new Map([
  [SITE_HEADER, 'site'],
  [TIMESTAMP_HEADER, 'timestamp'],
  [NONCE_HEADER, 'nonce'],
  [SIGNATURE_HEADER, 'signature'],
  [MAC_HEADER, 'mac'],
  [CONTENT_SHA256_HEADER, 'digest'],
]);

function repeated(name: string): TwinfedError {
  return new TwinfedError('UNAUTHENTICATED', `Header ${name} appears more than once.`);
}

/** One pass over the headers (names in any case) for the auth headers' values. */
function rawAuthHeaders(headers: HeaderSource): RawAuthHeaders {
  const raw: RawAuthHeaders = {};
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const source = headers as { get(name: string): string | null };
    for (const [name, slot] of SLOTS) {
      const v = source.get(name);
      if (v !== null) raw[slot] = v;
    }
    return raw;
  }
  const rec = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  for (const key of Object.keys(rec)) {
    const name = SLOTS.has(key) ? key : key.toLowerCase();
    const slot = SLOTS.get(name);
    const v = rec[key];
    if (slot === undefined || v === undefined) continue;
    if (raw[slot] !== undefined || typeof v !== 'string') throw repeated(name);
    raw[slot] = v;
  }
  return raw;
}

function required(v: string | undefined, name: string): string {
  if (v === undefined || v === '') throw new TwinfedError('UNAUTHENTICATED', `Missing header ${name}.`);
  return v;
}

/** The authentication fields of a MAC-authenticated request or handshake, parsed but NOT verified. */
export interface MacAuthFields {
  readonly siteId: string;
  readonly timestamp: number;
  readonly nonce: string;
  readonly mac: string;
}

type FieldCode = 'UNAUTHENTICATED' | 'BAD_REQUEST';

function checkCommonFields(fields: { siteId: unknown; timestamp: unknown; nonce: string }, code: FieldCode): void {
  if (typeof fields.siteId !== 'string' || !ID_RE.test(fields.siteId))
    throw new TwinfedError(code, 'Malformed site id.');
  if (!Number.isSafeInteger(fields.timestamp) || (fields.timestamp as number) < 0)
    throw new TwinfedError(code, 'Malformed timestamp.');
  if (fromB64(fields.nonce, code).byteLength !== AUTH_NONCE_BYTES) throw new TwinfedError(code, 'Malformed nonce.');
}

/** Checks the shape of the shared auth fields (site id, timestamp, nonce, signature); throws `code` if bad. */
export function checkAuthFields(fields: AuthFields, code: FieldCode = 'UNAUTHENTICATED'): AuthFields {
  checkCommonFields(fields, code);
  if (fromB64(fields.signature, code).byteLength !== KEY_BYTES.signature)
    throw new TwinfedError(code, 'Malformed signature.');
  return fields;
}

/** Checks the shape of the auth fields of a MAC-authenticated request or handshake; throws `code` if bad. */
export function checkMacAuthFields(fields: MacAuthFields, code: FieldCode = 'UNAUTHENTICATED'): MacAuthFields {
  checkCommonFields(fields, code);
  if (fromB64(fields.mac, code).byteLength !== AUTH_MAC_BYTES) throw new TwinfedError(code, 'Malformed MAC.');
  return fields;
}

/**
 * A site request's authentication headers, read in one pass and parsed but NOT verified: how it proves its origin
 * (`signature`: {@link SIGNATURE_HEADER}, `mac`: {@link MAC_HEADER}), its fields, and the body digest header if sent.
 */
export type SiteAuth =
  | { readonly scheme: 'signature'; readonly fields: AuthFields; readonly digest: string | undefined }
  | { readonly scheme: 'mac'; readonly fields: MacAuthFields; readonly digest: string | undefined };

/**
 * Reads a site request's authentication headers (names in any case), checking nothing but their form: undefined when
 * it sends neither a signature nor a MAC; `UNAUTHENTICATED` when it sends both (a request proves its origin one way),
 * or a header is missing, repeated or malformed (the body digest: 64 lowercase hex digits).
 */
export function readSiteAuth(headers: HeaderSource): SiteAuth | undefined {
  const raw = rawAuthHeaders(headers);
  if (raw.signature !== undefined && raw.mac !== undefined)
    throw new TwinfedError('UNAUTHENTICATED', `Send ${SIGNATURE_HEADER} or ${MAC_HEADER}, not both.`);
  if (raw.signature === undefined && raw.mac === undefined) return undefined;
  const ts = required(raw.timestamp, TIMESTAMP_HEADER);
  if (!/^\d{1,16}$/.test(ts)) throw new TwinfedError('UNAUTHENTICATED', 'Malformed timestamp.');
  const common = {
    siteId: required(raw.site, SITE_HEADER),
    timestamp: Number(ts),
    nonce: required(raw.nonce, NONCE_HEADER),
  };
  const digest = raw.digest;
  if (digest !== undefined && !/^[0-9a-f]{64}$/.test(digest))
    throw new TwinfedError('UNAUTHENTICATED', `Malformed header ${CONTENT_SHA256_HEADER}.`);
  return raw.mac !== undefined
    ? { scheme: 'mac', fields: checkMacAuthFields({ ...common, mac: required(raw.mac, MAC_HEADER) }), digest }
    : {
        scheme: 'signature',
        fields: checkAuthFields({ ...common, signature: required(raw.signature, SIGNATURE_HEADER) }),
        digest,
      };
}

/** The parsed auth of a request that must prove its origin by `scheme` (`UNAUTHENTICATED` otherwise). */
export function siteAuthAs<S extends SiteAuth['scheme']>(
  from: { headers: HeaderSource } | { auth: SiteAuth },
  scheme: S,
): Extract<SiteAuth, { scheme: S }> {
  const auth = 'auth' in from ? from.auth : readSiteAuth(from.headers);
  if (auth?.scheme !== scheme)
    throw new TwinfedError('UNAUTHENTICATED', `Missing header ${scheme === 'mac' ? MAC_HEADER : SIGNATURE_HEADER}.`);
  return auth as Extract<SiteAuth, { scheme: S }>;
}

/**
 * Throws `STALE_REQUEST` unless |now − timestamp| < windowMs (covers both old and future-dated requests). Strict:
 * a request exactly one window old is stale, so it can never meet a nonce that has just been forgotten.
 */
export function assertFresh(opts: { timestamp: number; now: number; windowMs: number }): void {
  if (!(Math.abs(opts.now - opts.timestamp) < opts.windowMs)) {
    throw new TwinfedError('STALE_REQUEST', undefined, { details: { windowMs: opts.windowMs } });
  }
}
