/**
 * Signing of site → coordinator HTTP requests (Ed25519 over SHA-256 of a canonical string):
 *
 *   TWINFED-REQUEST-V1\n<METHOD>\n<path with query>\n<sha256 hex of body>\n<timestamp ms>\n<nonce b64>\n<siteId>
 *
 * Replay protection is split: this module checks the timestamp window, the caller checks the nonce
 * against its store (nonces must be remembered until `nonceExpiresAt`, strictly longer than the window).
 * `signRequest` also sends the body digest in `x-twinfed-content-sha256`, so a server can verify the signature
 * before it reads the body.
 */
import { TwinfedError } from '../errors';
import { fromB64, toB64 } from '../crypto/encoding';
import { randomBytes, sha256, sha256Hex } from '../crypto/hash';
import { signDigest, verifyDigest } from '../crypto/signature';
import { ID_RE } from '../schemas/ids';
import {
  AUTH_NONCE_BYTES,
  CONTENT_SHA256_HEADER,
  NONCE_HEADER,
  SIGNATURE_HEADER,
  SITE_HEADER,
  TIMESTAMP_HEADER,
  assertFresh,
  siteAuthAs,
  type HeaderSource,
  type SiteAuth,
} from './headers';

/** A request body: bytes, a string (hashed as UTF-8) or nothing (hashed as the empty string). */
export type RequestBody = Uint8Array | string | null | undefined;

/** What a signed request covers. */
export interface RequestParts {
  readonly method: string;
  /** Path with query string exactly as sent, e.g. `/v1/federations/f1/rounds/current?x=1`. */
  readonly path: string;
  readonly body?: RequestBody;
  /** The body's SHA-256 in lowercase hex, instead of the body (the server checks the body against it later). */
  readonly bodySha256?: string;
  readonly siteId: string;
  readonly timestamp: number;
  readonly nonce: string;
}

const METHOD_RE = /^[A-Z]{1,16}$/;
const PATH_RE = /^\/[\x21-\x7e]*$/;

/** The canonical string of a request (throws `BAD_REQUEST` when method, path or site id could inject lines). */
export function canonicalRequest(parts: RequestParts): string {
  return canonicalLines('TWINFED-REQUEST-V1', parts);
}

/**
 * {@link canonicalRequest} under another first line: request-mac.ts uses its own, so a MAC's input is never the string
 * a signature covers.
 */
export function canonicalLines(prefix: string, parts: RequestParts): string {
  const method = parts.method.toUpperCase();
  if (!METHOD_RE.test(method)) throw new TwinfedError('BAD_REQUEST', 'Malformed method.');
  if (!PATH_RE.test(parts.path)) throw new TwinfedError('BAD_REQUEST', 'Malformed path.');
  if (!ID_RE.test(parts.siteId)) throw new TwinfedError('BAD_REQUEST', 'Malformed site id.');
  const digest = parts.bodySha256 ?? sha256Hex(parts.body ?? '');
  return [prefix, method, parts.path, digest, String(parts.timestamp), parts.nonce, parts.siteId].join('\n');
}

/**
 * The canonical string of a received request under `prefix`, from the request itself and its claimed site id, timestamp
 * and nonce; a method, path or site id that could inject lines is `BAD_SIGNATURE` (what a verifier answers).
 */
export function receivedLines(
  prefix: string,
  request: { method: string; path: string; body?: RequestBody; bodySha256?: string },
  claimed: { siteId: string; timestamp: number; nonce: string },
): string {
  try {
    return canonicalLines(prefix, {
      method: request.method,
      path: request.path,
      body: request.body,
      ...(request.bodySha256 !== undefined ? { bodySha256: request.bodySha256 } : {}),
      siteId: claimed.siteId,
      timestamp: claimed.timestamp,
      nonce: claimed.nonce,
    });
  } catch {
    throw new TwinfedError('BAD_SIGNATURE');
  }
}

/**
 * The authentication headers for a request (lowercase names, see the `*_HEADER` constants).
 * `now` (ms since epoch) defaults to `Date.now()`.
 */
export function signRequest(opts: {
  method: string;
  path: string;
  body?: RequestBody;
  siteId: string;
  signSecretKey: Uint8Array;
  now?: number;
}): Record<string, string> {
  const timestamp = Math.floor(opts.now ?? Date.now());
  const nonce = toB64(randomBytes(AUTH_NONCE_BYTES));
  const bodySha256 = sha256Hex(opts.body ?? '');
  const digest = sha256(
    canonicalRequest({ method: opts.method, path: opts.path, bodySha256, siteId: opts.siteId, timestamp, nonce }),
  );
  return {
    [CONTENT_SHA256_HEADER]: bodySha256,
    [SITE_HEADER]: opts.siteId,
    [TIMESTAMP_HEADER]: String(timestamp),
    [NONCE_HEADER]: nonce,
    [SIGNATURE_HEADER]: toB64(signDigest(digest, opts.signSecretKey)),
  };
}

/**
 * Verifies a signed request: headers present and well-formed (`UNAUTHENTICATED`), timestamp strictly within
 * `windowMs` of `now` (`STALE_REQUEST`), signature valid for `signPublicKey` (`BAD_SIGNATURE`).
 * Returns the site id, nonce and timestamp; the caller must still reject a reused nonce. With `bodySha256`
 * instead of `body` the signature is checked against that digest: the caller must then check the body against it.
 */
export function verifyRequest(
  opts: {
    method: string;
    path: string;
    body?: RequestBody;
    bodySha256?: string;
    signPublicKey: Uint8Array;
    now: number;
    windowMs: number;
  } & ({ headers: HeaderSource } | { auth: SiteAuth }),
): { siteId: string; nonce: string; timestamp: number } {
  const auth = siteAuthAs(opts, 'signature').fields;
  assertFresh({ timestamp: auth.timestamp, now: opts.now, windowMs: opts.windowMs });
  const canonical = receivedLines('TWINFED-REQUEST-V1', opts, auth);
  const ok = verifyDigest({
    digest: sha256(canonical),
    signature: fromB64(auth.signature, 'BAD_SIGNATURE'),
    publicKey: opts.signPublicKey,
  });
  if (!ok) throw new TwinfedError('BAD_SIGNATURE');
  return { siteId: auth.siteId, nonce: auth.nonce, timestamp: auth.timestamp };
}
