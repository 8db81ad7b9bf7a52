/**
 * Long-term identities: an Ed25519 signing key pair and an X25519 box key pair, in tweetnacl's formats
 * (64-byte Ed25519 secret key = seed ‖ public key). Both coordinator and sites have one; only the public
 * halves ever leave the machine.
 */
import { TwinfedError } from '../errors';
import { fromB64, toB64 } from './encoding';
import { sha256Parts } from './hash';
import { ed25519FromSeed, ed25519KeyPair, timingSafeEqualKeys, x25519KeyPair, x25519PublicKey } from './primitives';

/** Byte lengths of the key material. */
export const KEY_BYTES = {
  signPublicKey: 32,
  signSecretKey: 64,
  boxPublicKey: 32,
  boxSecretKey: 32,
  signature: 64,
} as const;

/** A key pair as raw bytes. */
export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** A full identity: Ed25519 `sign` pair (64-byte tweetnacl secret key) and X25519 `box` pair. */
export interface Identity {
  readonly sign: KeyPair;
  readonly box: KeyPair;
}

/** The public half of an identity as base64 strings, the form it travels and is stored in. */
export interface PublicIdentity {
  readonly signPublicKey: string;
  readonly boxPublicKey: string;
}

/** Public keys as base64 strings or raw bytes (accepted by {@link fingerprint}). */
interface PublicKeysInput {
  readonly signPublicKey: string | Uint8Array;
  readonly boxPublicKey: string | Uint8Array;
}

/** A fresh random identity. */
export function generateIdentity(): Identity {
  return { sign: ed25519KeyPair(), box: x25519KeyPair() };
}

/** The public half of `identity`, base64-encoded. */
export function publicPart(identity: Identity): PublicIdentity {
  return { signPublicKey: toB64(identity.sign.publicKey), boxPublicKey: toB64(identity.box.publicKey) };
}

/**
 * Rebuilds an identity from its two secret keys, checking lengths, and derives the public keys
 * (so a stored identity can never pair a secret key with someone else's public key).
 * Throws `CONFIG_INVALID` on bad material.
 */
export function identityFromSecretKeys(opts: { signSecretKey: Uint8Array; boxSecretKey: Uint8Array }): Identity {
  if (
    opts.signSecretKey.byteLength !== KEY_BYTES.signSecretKey ||
    opts.boxSecretKey.byteLength !== KEY_BYTES.boxSecretKey
  ) {
    throw new TwinfedError('CONFIG_INVALID', 'Identity key material has the wrong length.');
  }
  // The 64-byte secret key is seed ‖ public key: check the embedded public key is the seed's.
  const sign = ed25519FromSeed(opts.signSecretKey.subarray(0, 32));
  if (!timingSafeEqualKeys(sign.secretKey, opts.signSecretKey)) {
    throw new TwinfedError('CONFIG_INVALID', 'Signing secret key is inconsistent.');
  }
  const boxSecretKey = new Uint8Array(opts.boxSecretKey);
  return { sign, box: { publicKey: x25519PublicKey(boxSecretKey), secretKey: boxSecretKey } };
}

/**
 * Decodes a {@link PublicIdentity}, checking base64 and key lengths. Throws a {@link TwinfedError} with `code`
 * (default `VALIDATION_FAILED`).
 */
export function decodePublicIdentity(
  pub: PublicIdentity,
  code: 'VALIDATION_FAILED' | 'CONFIG_INVALID' | 'BAD_REQUEST' = 'VALIDATION_FAILED',
): { signPublicKey: Uint8Array; boxPublicKey: Uint8Array } {
  const signPublicKey = fromB64(pub.signPublicKey, code);
  const boxPublicKey = fromB64(pub.boxPublicKey, code);
  if (signPublicKey.byteLength !== KEY_BYTES.signPublicKey || boxPublicKey.byteLength !== KEY_BYTES.boxPublicKey) {
    throw new TwinfedError(code, 'Public key has the wrong length.');
  }
  return { signPublicKey, boxPublicKey };
}

/**
 * A short human-comparable fingerprint of a public identity, for out-of-band confirmation
 * (operator reads it to the hospital): the first 32 hex characters of
 * sha256("twinfed/fingerprint/v1\n" ‖ signPublicKey ‖ boxPublicKey), in dash-separated groups of 4,
 * e.g. `3f2a-91c0-…` (8 groups, 128 bits).
 */
export function fingerprint(pub: PublicKeysInput): string {
  const keys = decodePublicIdentity({
    signPublicKey: typeof pub.signPublicKey === 'string' ? pub.signPublicKey : toB64(pub.signPublicKey),
    boxPublicKey: typeof pub.boxPublicKey === 'string' ? pub.boxPublicKey : toB64(pub.boxPublicKey),
  });
  const hex = Buffer.from(sha256Parts(['twinfed/fingerprint/v1\n', keys.signPublicKey, keys.boxPublicKey])).toString(
    'hex',
  );
  return (hex.slice(0, 32).match(/.{4}/g) ?? []).join('-');
}
