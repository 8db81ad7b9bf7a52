/**
 * Authentication of a site's socket.io connection (sent as the handshake `auth` object):
 * Ed25519 over SHA-256 of `TWINFED-SOCKET-V1\n<timestamp ms>\n<nonce b64>\n<siteId>`.
 * Like requests, the caller checks the nonce against its replay store.
 */
import { TwinfedError } from '../errors';
import { fromB64, toB64 } from '../crypto/encoding';
import { randomBytes, sha256 } from '../crypto/hash';
import { signDigest, verifyDigest } from '../crypto/signature';
import { ID_RE } from '../schemas/ids';
import { AUTH_NONCE_BYTES, assertFresh, checkAuthFields, type AuthFields } from './headers';

/** The socket handshake `auth` payload. */
type HandshakeAuth = AuthFields;

function canonicalHandshake(f: { siteId: string; timestamp: number; nonce: string }): string {
  return ['TWINFED-SOCKET-V1', String(f.timestamp), f.nonce, f.siteId].join('\n');
}

/** A signed handshake payload for `siteId`; `now` (ms) defaults to `Date.now()`. */
export function signHandshake(opts: { siteId: string; signSecretKey: Uint8Array; now?: number }): HandshakeAuth {
  const timestamp = Math.floor(opts.now ?? Date.now());
  const nonce = toB64(randomBytes(AUTH_NONCE_BYTES));
  if (!ID_RE.test(opts.siteId)) throw new TwinfedError('BAD_REQUEST', 'Malformed site id.');
  const signature = toB64(
    signDigest(sha256(canonicalHandshake({ siteId: opts.siteId, timestamp, nonce })), opts.signSecretKey),
  );
  return { siteId: opts.siteId, timestamp, nonce, signature };
}

/**
 * Reads a handshake `auth` object of unknown shape without verifying it (so the server can look up the
 * site's key). Throws `UNAUTHENTICATED` when it is missing or malformed.
 */
export function parseHandshake(auth: unknown): HandshakeAuth {
  if (typeof auth !== 'object' || auth === null) throw new TwinfedError('UNAUTHENTICATED', 'Missing handshake auth.');
  const a = auth as Record<string, unknown>;
  if (
    typeof a.siteId !== 'string' ||
    typeof a.timestamp !== 'number' ||
    typeof a.nonce !== 'string' ||
    typeof a.signature !== 'string'
  ) {
    throw new TwinfedError('UNAUTHENTICATED', 'Malformed handshake auth.');
  }
  return checkAuthFields({ siteId: a.siteId, timestamp: a.timestamp, nonce: a.nonce, signature: a.signature });
}

/**
 * Verifies a handshake: form (`UNAUTHENTICATED`), freshness (`STALE_REQUEST`), signature (`BAD_SIGNATURE`).
 * Returns site id, nonce and timestamp; the caller must still reject a reused nonce.
 */
export function verifyHandshake(opts: { auth: unknown; signPublicKey: Uint8Array; now: number; windowMs: number }): {
  siteId: string;
  nonce: string;
  timestamp: number;
} {
  const h = parseHandshake(opts.auth);
  assertFresh({ timestamp: h.timestamp, now: opts.now, windowMs: opts.windowMs });
  const ok = verifyDigest({
    digest: sha256(canonicalHandshake(h)),
    signature: fromB64(h.signature, 'BAD_SIGNATURE'),
    publicKey: opts.signPublicKey,
  });
  if (!ok) throw new TwinfedError('BAD_SIGNATURE');
  return { siteId: h.siteId, nonce: h.nonce, timestamp: h.timestamp };
}
