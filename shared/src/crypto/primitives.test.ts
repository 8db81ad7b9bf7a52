import fc from 'fast-check';
import nacl from 'tweetnacl';
import { randomBytes } from './hash';
import {
  ed25519FromSeed,
  ed25519KeyPair,
  ed25519Sign,
  ed25519Verify,
  timingSafeEqualKeys,
  x25519,
  x25519KeyPair,
  x25519PublicKey,
} from './primitives';

// tweetnacl is the oracle: the native primitives must be byte-identical to it.
describe('native primitives are interoperable with tweetnacl', () => {
  test('Ed25519 keys from a seed and signatures match tweetnacl byte for byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 64 }), (seed, msg) => {
        const ours = ed25519FromSeed(seed);
        const theirs = nacl.sign.keyPair.fromSeed(seed);
        expect(ours.publicKey).toEqual(theirs.publicKey);
        expect(ours.secretKey).toEqual(theirs.secretKey);
        const sig = ed25519Sign(msg, ours.secretKey);
        expect(sig).toEqual(nacl.sign.detached(msg, theirs.secretKey));
        expect(ed25519Verify(msg, sig, ours.publicKey)).toBe(true);
      }),
      { numRuns: 3 },
    );
  });

  test('verifies tweetnacl signatures and rejects tampered ones', () => {
    const kp = nacl.sign.keyPair();
    const msg = randomBytes(32);
    const sig = nacl.sign.detached(msg, kp.secretKey);
    expect(ed25519Verify(msg, sig, kp.publicKey)).toBe(true);
    const bad = new Uint8Array(sig);
    bad[63] = bad[63]! ^ 0x10;
    expect(ed25519Verify(msg, bad, kp.publicKey)).toBe(false);
    expect(ed25519Verify(msg, sig, new Uint8Array(32))).toBe(false);
    expect(ed25519Verify(msg, sig.subarray(1), kp.publicKey)).toBe(false);
  });

  test('generated key pairs are consistent', () => {
    const s = ed25519KeyPair();
    expect(s.secretKey.subarray(32)).toEqual(s.publicKey);
    expect(nacl.sign.keyPair.fromSecretKey(s.secretKey).publicKey).toEqual(s.publicKey);
    const b = x25519KeyPair();
    expect(b.secretKey).toHaveLength(32);
    expect(x25519PublicKey(b.secretKey)).toEqual(b.publicKey);
  });

  test('X25519 matches nacl.scalarMult, including unclamped secret keys', () => {
    const a = nacl.box.keyPair();
    const b = nacl.box.keyPair();
    expect(x25519PublicKey(a.secretKey)).toEqual(a.publicKey);
    expect(x25519(a.secretKey, b.publicKey)).toEqual(nacl.scalarMult(a.secretKey, b.publicKey));
    expect(x25519(b.secretKey, a.publicKey)).toEqual(x25519(a.secretKey, b.publicKey));
    const unclamped = new Uint8Array(32).fill(0xff);
    expect(x25519PublicKey(unclamped)).toEqual(nacl.scalarMult.base(unclamped));
  });

  test('X25519 returns null for low-order points and bad lengths', () => {
    const a = x25519KeyPair();
    expect(x25519(a.secretKey, new Uint8Array(32))).toBeNull();
    const one = new Uint8Array(32);
    one[0] = 1;
    expect(x25519(a.secretKey, one)).toBeNull();
    expect(x25519(a.secretKey, new Uint8Array(31))).toBeNull();
  });

  test('X25519 agreements are cached per key pair: repeated, after the caller changed a result, and for a changed secret', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (s, t) => {
          const peer = nacl.box.keyPair();
          const first = x25519(s, peer.publicKey)!;
          expect(first).toEqual(nacl.scalarMult(s, peer.publicKey));
          first.fill(0); // the caller's copy, not the cache's
          expect(x25519(s, peer.publicKey)).toEqual(nacl.scalarMult(s, peer.publicKey));
          x25519PublicKey(s).fill(0);
          expect(x25519PublicKey(s)).toEqual(nacl.scalarMult.base(s));
          s.set(t); // the same array now holds another secret: nothing cached for the old one is used
          expect(x25519(s, peer.publicKey)).toEqual(nacl.scalarMult(t, peer.publicKey));
          expect(x25519PublicKey(s)).toEqual(nacl.scalarMult.base(t));
        },
      ),
      { numRuns: 50 },
    );
    const a = x25519KeyPair();
    expect(x25519(a.secretKey, new Uint8Array(32))).toBeNull(); // a refused point stays refused when cached
    expect(x25519(a.secretKey, new Uint8Array(32))).toBeNull();
  });

  test('compares keys', () => {
    expect(timingSafeEqualKeys(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(timingSafeEqualKeys(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(timingSafeEqualKeys(new Uint8Array([1]), new Uint8Array([1, 3]))).toBe(false);
  });
});
