import nacl from 'tweetnacl';
import { fromB64 } from './encoding';
import { sha256 } from './hash';
import {
  KEY_BYTES,
  decodePublicIdentity,
  fingerprint,
  generateIdentity,
  identityFromSecretKeys,
  publicPart,
} from './identity';
import { signDigest, verifyDigest } from './signature';

const alice = generateIdentity();
const bob = generateIdentity();

describe('identity', () => {
  test('has keys of the right lengths and a consistent public part', () => {
    expect(alice.sign.publicKey).toHaveLength(KEY_BYTES.signPublicKey);
    expect(alice.sign.secretKey).toHaveLength(KEY_BYTES.signSecretKey);
    expect(alice.box.publicKey).toHaveLength(KEY_BYTES.boxPublicKey);
    expect(alice.box.secretKey).toHaveLength(KEY_BYTES.boxSecretKey);
    const pub = publicPart(alice);
    expect(fromB64(pub.signPublicKey)).toEqual(alice.sign.publicKey);
    expect(decodePublicIdentity(pub).boxPublicKey).toEqual(alice.box.publicKey);
  });

  test('rebuilds from secret keys and rejects inconsistent material', () => {
    const again = identityFromSecretKeys({ signSecretKey: alice.sign.secretKey, boxSecretKey: alice.box.secretKey });
    expect(again.sign.publicKey).toEqual(alice.sign.publicKey);
    expect(again.box.publicKey).toEqual(alice.box.publicKey);
    const franken = new Uint8Array(alice.sign.secretKey);
    franken.set(bob.sign.publicKey, 32);
    expect(() => identityFromSecretKeys({ signSecretKey: franken, boxSecretKey: alice.box.secretKey })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() =>
      identityFromSecretKeys({ signSecretKey: new Uint8Array(63), boxSecretKey: alice.box.secretKey }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  test('rejects malformed public identities', () => {
    expect(() => decodePublicIdentity({ signPublicKey: 'AAAA', boxPublicKey: publicPart(alice).boxPublicKey })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });

  test('fingerprints: 8 groups of 4 hex, stable, key-sensitive, same for bytes and base64', () => {
    const fp = fingerprint(publicPart(alice));
    expect(fp).toMatch(/^[0-9a-f]{4}(-[0-9a-f]{4}){7}$/);
    expect(fingerprint({ signPublicKey: alice.sign.publicKey, boxPublicKey: alice.box.publicKey })).toBe(fp);
    expect(fingerprint(publicPart(bob))).not.toBe(fp);
    expect(fingerprint({ signPublicKey: alice.sign.publicKey, boxPublicKey: bob.box.publicKey })).not.toBe(fp);
  });
});

describe('signatures over digests', () => {
  const digest = sha256('hello');
  const sig = signDigest(digest, alice.sign.secretKey);

  test('verifies and matches tweetnacl', () => {
    expect(verifyDigest({ digest, signature: sig, publicKey: alice.sign.publicKey })).toBe(true);
    expect(nacl.sign.detached.verify(digest, sig, alice.sign.publicKey)).toBe(true);
  });

  test('rejects another key, another digest, a flipped signature bit', () => {
    expect(verifyDigest({ digest, signature: sig, publicKey: bob.sign.publicKey })).toBe(false);
    expect(verifyDigest({ digest: sha256('hellO'), signature: sig, publicKey: alice.sign.publicKey })).toBe(false);
    const bad = new Uint8Array(sig);
    bad[10] = bad[10]! ^ 1;
    expect(verifyDigest({ digest, signature: bad, publicKey: alice.sign.publicKey })).toBe(false);
  });

  test('returns false, never throws, on bad lengths or types', () => {
    expect(verifyDigest({ digest: digest.subarray(1), signature: sig, publicKey: alice.sign.publicKey })).toBe(false);
    expect(verifyDigest({ digest, signature: sig.subarray(1), publicKey: alice.sign.publicKey })).toBe(false);
    expect(verifyDigest({ digest, signature: sig, publicKey: new Uint8Array(31) })).toBe(false);
    expect(verifyDigest({ digest, signature: 'x' as unknown as Uint8Array, publicKey: alice.sign.publicKey })).toBe(
      false,
    );
  });

  test('refuses to sign anything but a 32-byte digest', () => {
    expect(() => signDigest(new Uint8Array(33), alice.sign.secretKey)).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }),
    );
    expect(() => signDigest(digest, alice.box.secretKey)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});
