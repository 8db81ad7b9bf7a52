/**
 * The raw curve operations: Ed25519 and X25519 with tweetnacl's key formats (Ed25519 secret key =
 * 32-byte seed ‖ 32-byte public key; X25519 secret key = 32 raw bytes), executed by node:crypto (OpenSSL).
 *
 * Why native rather than tweetnacl here (measured on this machine, see `benchEnvelope` and the tests'
 * tweetnacl interop checks): Ed25519 verify ≈ 0.08 ms native vs ≈ 5 ms in tweetnacl in plain node, and
 * ≈ 25–60 ms for tweetnacl under jest's vm sandbox (global lookups are intercepted there), which would block
 * the coordinator's event loop per signed request and make every signed test crawl. The outputs are
 * bit-identical (Ed25519 signatures are deterministic; X25519 is a function), the tests prove it against
 * tweetnacl, and keys, signatures and wire formats are unchanged. This file is the only place to touch to
 * switch back.
 */
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';

/** A raw key pair in tweetnacl's formats. */
interface RawKeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

// DER prefixes of PKCS#8 private keys (RFC 8410) for Ed25519 (OID 1.3.101.112) and X25519 (1.3.101.110).
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');

const b64u = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');

/*
 * Key objects are cached: importing a key costs more than the signature or key agreement itself (measured with
 * 300 simulated sites: a tenth of the CPU of both the coordinator and the sites). Secret keys are cached per
 * Uint8Array (a WeakMap: no string copy of the secret, freed with the key; a changed array is re-imported);
 * public keys by value, at most PUBLIC_CACHE_SIZE of them.
 */
const PUBLIC_CACHE_SIZE = 4096;
const publicKeys = new Map<string, KeyObject>();
/*
 * An X25519 secret's entry also keeps its public key and its agreements with the peers' public keys (at most
 * PUBLIC_CACHE_SIZE): a site seals and opens boxes with the same neighbours under its long-term identity key round
 * after round (secure aggregation: two agreements per neighbour and round), and the agreement of a key pair never
 * changes. They live and die with the secret's array, like its key object.
 */
interface SecretEntry {
  copy: Uint8Array;
  key: KeyObject;
  publicKey?: Uint8Array;
  agreements?: Map<string, Uint8Array | null>;
}
const secretKeys = {
  ed25519: new WeakMap<Uint8Array, SecretEntry>(),
  x25519: new WeakMap<Uint8Array, SecretEntry>(),
};

function cachedEntry(kind: 'ed25519' | 'x25519', secret: Uint8Array, make: () => KeyObject): SecretEntry {
  const hit = secretKeys[kind].get(secret);
  if (hit && hit.copy.byteLength === secret.byteLength && timingSafeEqual(hit.copy, secret)) return hit;
  const entry = { copy: Uint8Array.from(secret), key: make() };
  secretKeys[kind].set(secret, entry);
  return entry;
}

function cachedSecret(kind: 'ed25519' | 'x25519', secret: Uint8Array, make: () => KeyObject): KeyObject {
  return cachedEntry(kind, secret, make).key;
}

function cachedPublic(crv: 'Ed25519' | 'X25519', publicKey: Uint8Array): KeyObject {
  const x = b64u(publicKey);
  const id = `${crv}:${x}`;
  let key = publicKeys.get(id);
  if (!key) {
    key = createPublicKey({ key: { kty: 'OKP', crv, x }, format: 'jwk' });
    if (publicKeys.size >= PUBLIC_CACHE_SIZE) publicKeys.delete(publicKeys.keys().next().value as string);
    publicKeys.set(id, key);
  }
  return key;
}
const bytes = (buf: Buffer): Uint8Array => new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);

function rawPublic(key: KeyObject): Uint8Array {
  return bytes(Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url'));
}

/** An Ed25519 key pair from a 32-byte seed (secret key = seed ‖ public key). */
export function ed25519FromSeed(seed: Uint8Array): RawKeyPair {
  const priv = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = rawPublic(createPublicKey(priv));
  const secretKey = new Uint8Array(64);
  secretKey.set(seed, 0);
  secretKey.set(publicKey, 32);
  return { publicKey, secretKey };
}

/*
 * Fresh key pairs come from 32 random bytes, as tweetnacl makes them (an Ed25519 seed; an X25519 scalar, clamped
 * inside the curve operation), not from generateKeyPairSync: on Node 20, exporting a key that
 * generateKeyPairSync made can deadlock the process when a garbage collection runs during the export (the
 * finished key-generation job, freed by the collector, locks the key the export holds). Seen with ~200
 * enrollments in a row in the load test: the process hung in a futex for good.
 */

/** A fresh random Ed25519 key pair. */
export function ed25519KeyPair(): RawKeyPair {
  return ed25519FromSeed(new Uint8Array(randomBytes(32)));
}

/** Ed25519 signature (64 bytes) of `message` with a 64-byte secret key (seed ‖ public key). */
export function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  const key = cachedSecret('ed25519', secretKey, () =>
    createPrivateKey({
      key: { kty: 'OKP', crv: 'Ed25519', d: b64u(secretKey.subarray(0, 32)), x: b64u(secretKey.subarray(32, 64)) },
      format: 'jwk',
    }),
  );
  return bytes(sign(null, message, key));
}

/** True when `signature` is valid for `message` under the 32-byte `publicKey`; false on any error. */
export function ed25519Verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return verify(null, message, cachedPublic('Ed25519', publicKey), signature);
  } catch {
    return false;
  }
}

function x25519Entry(secretKey: Uint8Array): SecretEntry {
  return cachedEntry('x25519', secretKey, () =>
    createPrivateKey({ key: Buffer.concat([X25519_PKCS8, secretKey]), format: 'der', type: 'pkcs8' }),
  );
}

/** The X25519 public key of a 32-byte secret key (a fresh copy: callers may keep or change it). */
export function x25519PublicKey(secretKey: Uint8Array): Uint8Array {
  const entry = x25519Entry(secretKey);
  entry.publicKey ??= rawPublic(createPublicKey(entry.key));
  return entry.publicKey.slice();
}

/** A fresh random X25519 key pair. */
export function x25519KeyPair(): RawKeyPair {
  const secretKey = new Uint8Array(randomBytes(32)); // a copy of its own, not a view into Buffer's shared pool
  return { publicKey: x25519PublicKey(secretKey), secretKey };
}

/** X25519(secretKey, publicKey), or null when it fails or is all-zero (low-order public key). */
export function x25519(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array | null {
  const entry = x25519Entry(secretKey);
  const peer = b64u(publicKey);
  const agreements = (entry.agreements ??= new Map<string, Uint8Array | null>());
  let shared = agreements.get(peer);
  if (shared === undefined) {
    shared = agreement(entry.key, publicKey);
    if (agreements.size >= PUBLIC_CACHE_SIZE) agreements.delete(agreements.keys().next().value as string);
    agreements.set(peer, shared);
  }
  return shared?.slice() ?? null;
}

function agreement(privateKey: KeyObject, publicKey: Uint8Array): Uint8Array | null {
  try {
    const shared = bytes(diffieHellman({ privateKey, publicKey: cachedPublic('X25519', publicKey) }));
    return shared.byteLength === 32 && shared.some((b) => b !== 0) ? shared : null;
  } catch {
    return null;
  }
}

/** Constant-time equality of two keys (false when lengths differ). */
export function timingSafeEqualKeys(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}
