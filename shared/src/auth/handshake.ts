/**
 * Authentication of a site's socket.io connection (sent as the handshake `auth` object), in one of two forms:
 * - signed: Ed25519 over SHA-256 of `TWINFED-SOCKET-V1\n<timestamp ms>\n<nonce b64>\n<siteId>` (`signature`);
 * - MAC'd: HMAC-SHA256 under the site's request MAC key (request-mac.ts) of
 *   `TWINFED-SOCKET-MAC-V1\n<timestamp ms>\n<nonce b64>\n<siteId>` (`mac`).
 * Like requests, the caller checks the nonce against its replay store.
 */
import { TwinfedError } from '../errors';
import { fromB64, toB64 } from '../crypto/encoding';
import { randomBytes, sha256 } from '../crypto/hash';
import { signDigest, verifyDigest } from '../crypto/signature';
import { ID_RE } from '../schemas/ids';
import {
  AUTH_NONCE_BYTES,
  assertFresh,
  checkAuthFields,
  checkMacAuthFields,
  type AuthFields,
  type MacAuthFields,
} from './headers';
import { macMatches, macOf, type RequestMacKey } from './request-mac';

/** The socket handshake `auth` payload: signed or MAC'd. */
type HandshakeAuth = AuthFields | MacAuthFields;

function canonicalHandshake(prefix: string, f: { siteId: string; timestamp: number; nonce: string }): string {
  return [prefix, String(f.timestamp), f.nonce, f.siteId].join('\n');
}

function fresh(siteId: string, now: number | undefined): { siteId: string; timestamp: number; nonce: string } {
  if (!ID_RE.test(siteId)) throw new TwinfedError('BAD_REQUEST', 'Malformed site id.');
  return { siteId, timestamp: Math.floor(now ?? Date.now()), nonce: toB64(randomBytes(AUTH_NONCE_BYTES)) };
}

/** A signed handshake payload for `siteId`; `now` (ms) defaults to `Date.now()`. */
export function signHandshake(opts: { siteId: string; signSecretKey: Uint8Array; now?: number }): AuthFields {
  const f = fresh(opts.siteId, opts.now);
  const signature = toB64(signDigest(sha256(canonicalHandshake('TWINFED-SOCKET-V1', f)), opts.signSecretKey));
  return { ...f, signature };
}

/** A MAC'd handshake payload for the site of `key`; `now` (ms) defaults to `Date.now()`. */
export function macHandshake(opts: { key: RequestMacKey; now?: number }): MacAuthFields {
  const f = fresh(opts.key.siteId, opts.now);
  return { ...f, mac: toB64(macOf(opts.key, canonicalHandshake('TWINFED-SOCKET-MAC-V1', f))) };
}

/**
 * Reads a handshake `auth` object of unknown shape without verifying it (so the server can look up the
 * site's key). Throws `UNAUTHENTICATED` when it is missing or malformed, or carries both a signature and a MAC.
 */
export function parseHandshake(auth: unknown): HandshakeAuth {
  if (typeof auth !== 'object' || auth === null) throw new TwinfedError('UNAUTHENTICATED', 'Missing handshake auth.');
  const a = auth as Record<string, unknown>;
  if (typeof a.siteId !== 'string' || typeof a.timestamp !== 'number' || typeof a.nonce !== 'string')
    throw new TwinfedError('UNAUTHENTICATED', 'Malformed handshake auth.');
  const common = { siteId: a.siteId, timestamp: a.timestamp, nonce: a.nonce };
  if (typeof a.signature === 'string' && a.mac === undefined)
    return checkAuthFields({ ...common, signature: a.signature });
  if (typeof a.mac === 'string' && a.signature === undefined) return checkMacAuthFields({ ...common, mac: a.mac });
  throw new TwinfedError('UNAUTHENTICATED', 'Malformed handshake auth.');
}

/**
 * Verifies a handshake: form (`UNAUTHENTICATED`), freshness (`STALE_REQUEST`), then the signature under
 * `signPublicKey` or the MAC under `macKey` (`BAD_SIGNATURE`; a MAC without a key never verifies). Returns site id,
 * nonce and timestamp; the caller must still reject a reused nonce.
 */
export function verifyHandshake(opts: {
  auth: unknown;
  signPublicKey: Uint8Array;
  macKey?: RequestMacKey | null;
  now: number;
  windowMs: number;
}): {
  siteId: string;
  nonce: string;
  timestamp: number;
} {
  const h = parseHandshake(opts.auth);
  assertFresh({ timestamp: h.timestamp, now: opts.now, windowMs: opts.windowMs });
  let ok: boolean;
  if ('mac' in h) {
    ok = macMatches(opts.macKey, h.siteId, canonicalHandshake('TWINFED-SOCKET-MAC-V1', h), h.mac);
  } else {
    ok = verifyDigest({
      digest: sha256(canonicalHandshake('TWINFED-SOCKET-V1', h)),
      signature: fromB64(h.signature, 'BAD_SIGNATURE'),
      publicKey: opts.signPublicKey,
    });
  }
  if (!ok) throw new TwinfedError('BAD_SIGNATURE');
  return { siteId: h.siteId, nonce: h.nonce, timestamp: h.timestamp };
}
