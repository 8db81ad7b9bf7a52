/**
 * MAC-authenticated site → coordinator requests: an HMAC-SHA256 under a key the site and the coordinator share, instead
 * of an Ed25519 signature (the session-key route of Flower's node authentication; docs/decisions.md, "Site requests
 * authenticated by a MAC"). The key is derived from the static agreement of the two X25519 box keys that already
 * encrypt the site's updates:
 *
 *   K   = HKDF-SHA256(ikm  = X25519(site box secret, coordinator box public) = X25519(coordinator box secret, site box public),
 *                     salt = "TWINFED-REQUEST-MAC-V1",
 *                     info = "TWINFED-REQUEST-MAC-V1\n" ‖ siteId ‖ "\n" ‖ site box public ‖ coordinator box public, 32)
 *   mac = HMAC-SHA256(K, TWINFED-REQUEST-MAC-V1\n<METHOD>\n<path with query>\n<sha256 hex of body>\n<timestamp ms>\n<nonce b64>\n<siteId>)
 *
 * Headers are those of a signed request with {@link MAC_HEADER} (base64, 32 bytes) instead of the signature; freshness
 * and the nonce are checked exactly as for signatures (the caller consumes the nonce). The MAC's input has its own first
 * line, so it is never the string a signature covers; socket handshakes use the same key under `TWINFED-SOCKET-MAC-V1`
 * (handshake.ts). Any holder of the coordinator's box secret can compute K — see the decisions entry for what that gives
 * up, and why update headers and other evidence keep their own signatures.
 */
import { timingSafeEqual } from 'node:crypto';
import { TwinfedError } from '../errors';
import { concatBytes, fromB64, toB64, utf8 } from '../crypto/encoding';
import { randomBytes, sha256Hex } from '../crypto/hash';
import { hkdfSha256 } from '../crypto/hkdf';
import { hmacPads, hmacSha256, type HmacPads } from '../crypto/hmac';
import { x25519, x25519PublicKey } from '../crypto/primitives';
import { ID_RE } from '../schemas/ids';
import {
  AUTH_MAC_BYTES,
  AUTH_NONCE_BYTES,
  CONTENT_SHA256_HEADER,
  MAC_HEADER,
  NONCE_HEADER,
  SITE_HEADER,
  TIMESTAMP_HEADER,
  assertFresh,
  siteAuthAs,
  type HeaderSource,
  type SiteAuth,
} from './headers';
import { canonicalLines, receivedLines, type RequestBody, type RequestParts } from './request-signing';

const LABEL = 'TWINFED-REQUEST-MAC-V1';

/** A site's request MAC key (either end's view of the same key). Opaque: only this module and handshake.ts use it. */
export interface RequestMacKey {
  readonly siteId: string;
  readonly pads: HmacPads;
}

function derive(
  siteId: string,
  shared: Uint8Array | null,
  site: Uint8Array,
  coordinator: Uint8Array,
): RequestMacKey | null {
  if (shared === null || !ID_RE.test(siteId)) return null;
  const info = concatBytes([utf8(`${LABEL}\n${siteId}\n`), site, coordinator]);
  return Object.freeze({ siteId, pads: hmacPads(hkdfSha256(shared, LABEL, info, 32)) });
}

/** The site's view of its key with the coordinator; null when the coordinator's key gives no agreement (low order). */
export function siteRequestMacKey(o: {
  siteId: string;
  siteBoxSecretKey: Uint8Array;
  coordinatorBoxPublicKey: Uint8Array;
}): RequestMacKey | null {
  const site = x25519PublicKey(o.siteBoxSecretKey);
  return derive(o.siteId, x25519(o.siteBoxSecretKey, o.coordinatorBoxPublicKey), site, o.coordinatorBoxPublicKey);
}

/**
 * The coordinator's view of a site's key (the agreement comes from primitives' cache, the one the coordinator opens that
 * site's updates with); null when the site's key gives no agreement.
 */
export function coordinatorRequestMacKey(o: {
  siteId: string;
  siteBoxPublicKey: Uint8Array;
  coordinatorBoxSecretKey: Uint8Array;
}): RequestMacKey | null {
  const coordinator = x25519PublicKey(o.coordinatorBoxSecretKey);
  return derive(o.siteId, x25519(o.coordinatorBoxSecretKey, o.siteBoxPublicKey), o.siteBoxPublicKey, coordinator);
}

/** The MAC (32 bytes) of `text` under `key`. */
export function macOf(key: RequestMacKey, text: string): Uint8Array {
  return hmacSha256(key.pads, [Buffer.from(text, 'utf8')]);
}

/**
 * True when `key` is the key of the claimed site `siteId` and `given` (base64) is its MAC of `text`; constant-time. A
 * null key (a site whose box key gives no agreement, or none at hand) never matches.
 */
export function macMatches(
  key: RequestMacKey | null | undefined,
  siteId: string,
  text: string,
  given: string,
): boolean {
  if (!key || key.siteId !== siteId) return false;
  const bytes = fromB64(given, 'BAD_SIGNATURE');
  return bytes.byteLength === AUTH_MAC_BYTES && timingSafeEqual(bytes, macOf(key, text));
}

/** The canonical string a request MAC covers (`TWINFED-REQUEST-MAC-V1`, then the lines of `canonicalRequest`). */
export function canonicalMacRequest(parts: RequestParts): string {
  return canonicalLines(LABEL, parts);
}

/** The authentication headers of a MAC'd request (as `signRequest`'s, with {@link MAC_HEADER} for the signature). */
export function macRequest(opts: {
  method: string;
  path: string;
  body?: RequestBody;
  key: RequestMacKey;
  now?: number;
}): Record<string, string> {
  const timestamp = Math.floor(opts.now ?? Date.now());
  const nonce = toB64(randomBytes(AUTH_NONCE_BYTES));
  const bodySha256 = sha256Hex(opts.body ?? '');
  const siteId = opts.key.siteId;
  const text = canonicalMacRequest({ method: opts.method, path: opts.path, bodySha256, siteId, timestamp, nonce });
  return {
    [CONTENT_SHA256_HEADER]: bodySha256,
    [SITE_HEADER]: siteId,
    [TIMESTAMP_HEADER]: String(timestamp),
    [NONCE_HEADER]: nonce,
    [MAC_HEADER]: toB64(macOf(opts.key, text)),
  };
}

/**
 * Verifies a MAC'd request as `verifyRequest` verifies a signed one: headers (`UNAUTHENTICATED`, a signature header too
 * included; or their `auth` as `readSiteAuth` read them), freshness (`STALE_REQUEST`), then the MAC under `key`
 * (`BAD_SIGNATURE`; a null key — a site whose box key gives no agreement — or the key of another site never verifies).
 * The caller must still reject a reused nonce; with `bodySha256` it must check the body against it.
 */
export function verifyRequestMac(
  opts: {
    method: string;
    path: string;
    body?: RequestBody;
    bodySha256?: string;
    key: RequestMacKey | null;
    now: number;
    windowMs: number;
  } & ({ headers: HeaderSource } | { auth: SiteAuth }),
): { siteId: string; nonce: string; timestamp: number } {
  const auth = siteAuthAs(opts, 'mac').fields;
  assertFresh({ timestamp: auth.timestamp, now: opts.now, windowMs: opts.windowMs });
  const text = receivedLines(LABEL, opts, auth);
  if (!macMatches(opts.key, auth.siteId, text, auth.mac)) throw new TwinfedError('BAD_SIGNATURE');
  return { siteId: auth.siteId, nonce: auth.nonce, timestamp: auth.timestamp };
}
