/**
 * Ed25519 signatures (tweetnacl key format, see `primitives.ts`) over 32-byte SHA-256 digests. twinfed never signs payloads directly:
 * callers hash (with a domain-separating prefix) and sign the digest, so signing cost is independent of size.
 */
import { TwinfedError } from '../errors';
import { fromB64, toB64 } from './encoding';
import { KEY_BYTES } from './identity';
import { ed25519Sign, ed25519Verify } from './primitives';

/** Length of the digests that may be signed. */
const DIGEST_BYTES = 32;

/**
 * Signs a 32-byte digest with a 64-byte tweetnacl Ed25519 secret key; returns the 64-byte signature.
 * Throws `INTERNAL` on wrong lengths (a programming error, never remote input).
 */
export function signDigest(digest: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (digest.byteLength !== DIGEST_BYTES) throw new TwinfedError('INTERNAL', 'signDigest: digest must be 32 bytes.');
  if (secretKey.byteLength !== KEY_BYTES.signSecretKey)
    throw new TwinfedError('INTERNAL', 'signDigest: secret key must be 64 bytes.');
  return ed25519Sign(digest, secretKey);
}

/**
 * True when `signature` is a valid Ed25519 signature of `digest` under `publicKey`.
 * Never throws: wrong lengths or non-Uint8Array inputs simply return false.
 */
export function verifyDigest(opts: { digest: Uint8Array; signature: Uint8Array; publicKey: Uint8Array }): boolean {
  const { digest, signature, publicKey } = opts;
  if (!(digest instanceof Uint8Array) || !(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array))
    return false;
  if (
    digest.byteLength !== DIGEST_BYTES ||
    signature.byteLength !== KEY_BYTES.signature ||
    publicKey.byteLength !== KEY_BYTES.signPublicKey
  ) {
    return false;
  }
  return ed25519Verify(digest, signature, publicKey);
}

/** {@link signDigest}, the signature in base64 (as signed statements carry it). */
export function signDigestB64(digest: Uint8Array, secretKey: Uint8Array): string {
  return toB64(signDigest(digest, secretKey));
}

/** {@link verifyDigest} of a base64 signature; never throws: a signature that is not base64 is simply false. */
export function verifyDigestB64(digest: Uint8Array, signature: string, publicKey: Uint8Array): boolean {
  let sig: Uint8Array;
  try {
    sig = fromB64(signature);
  } catch {
    return false;
  }
  return verifyDigest({ digest, signature: sig, publicKey });
}
