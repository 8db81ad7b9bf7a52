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

/** The optional body digest header (64 lowercase hex digits), or undefined; malformed or repeated: `UNAUTHENTICATED`. */
export function contentSha256Header(headers: HeaderSource): string | undefined {
  const v = getHeader(headers, CONTENT_SHA256_HEADER);
  if (v === undefined) return undefined;
  if (!/^[0-9a-f]{64}$/.test(v))
    throw new TwinfedError('UNAUTHENTICATED', `Malformed header ${CONTENT_SHA256_HEADER}.`);
  return v;
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

function getHeader(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const v = (headers as { get(name: string): string | null }).get(name);
    return v ?? undefined;
  }
  const rec = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  let found: string | readonly string[] | undefined;
  for (const key of Object.keys(rec)) {
    if (key.toLowerCase() !== name) continue;
    if (found !== undefined) throw new TwinfedError('UNAUTHENTICATED', `Header ${name} appears more than once.`);
    found = rec[key];
  }
  if (Array.isArray(found)) throw new TwinfedError('UNAUTHENTICATED', `Header ${name} appears more than once.`);
  return found as string | undefined;
}

function required(headers: HeaderSource, name: string): string {
  const v = getHeader(headers, name);
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
 * How a site request authenticates: `signature` ({@link SIGNATURE_HEADER}), `mac` ({@link MAC_HEADER}) or neither
 * (undefined). Both at once: `UNAUTHENTICATED` (a request proves its origin one way).
 */
export function siteAuthScheme(headers: HeaderSource): 'signature' | 'mac' | undefined {
  const signature = getHeader(headers, SIGNATURE_HEADER) !== undefined;
  const mac = getHeader(headers, MAC_HEADER) !== undefined;
  if (signature && mac)
    throw new TwinfedError('UNAUTHENTICATED', `Send ${SIGNATURE_HEADER} or ${MAC_HEADER}, not both.`);
  return signature ? 'signature' : mac ? 'mac' : undefined;
}

function commonHeaders(headers: HeaderSource): { siteId: string; timestamp: number; nonce: string } {
  const ts = required(headers, TIMESTAMP_HEADER);
  if (!/^\d{1,16}$/.test(ts)) throw new TwinfedError('UNAUTHENTICATED', 'Malformed timestamp.');
  return { siteId: required(headers, SITE_HEADER), timestamp: Number(ts), nonce: required(headers, NONCE_HEADER) };
}

/**
 * Extracts site id, timestamp, nonce and signature from request headers without verifying anything but
 * their form. Throws `UNAUTHENTICATED` when a header is missing, repeated or malformed, or a MAC is sent too.
 */
export function parseAuthHeaders(headers: HeaderSource): AuthFields {
  if (siteAuthScheme(headers) === 'mac')
    throw new TwinfedError('UNAUTHENTICATED', `Missing header ${SIGNATURE_HEADER}.`);
  return checkAuthFields({ ...commonHeaders(headers), signature: required(headers, SIGNATURE_HEADER) });
}

/**
 * Extracts site id, timestamp, nonce and MAC from request headers without verifying anything but their form. Throws
 * `UNAUTHENTICATED` when a header is missing, repeated or malformed, or a signature is sent too.
 */
export function parseMacAuthHeaders(headers: HeaderSource): MacAuthFields {
  if (siteAuthScheme(headers) === 'signature')
    throw new TwinfedError('UNAUTHENTICATED', `Missing header ${MAC_HEADER}.`);
  return checkMacAuthFields({ ...commonHeaders(headers), mac: required(headers, MAC_HEADER) });
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
