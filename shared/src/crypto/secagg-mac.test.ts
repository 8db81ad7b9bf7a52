import fc from 'fast-check';
import { createHmac, randomBytes } from 'node:crypto';
import { hkdfSha256 } from './hkdf';
import { generateIdentity } from './identity';
import { concatBytes, fromB64, toB64, utf8 } from './encoding';
import { x25519 } from './primitives';
import {
  secaggConsistencyMac,
  secaggConsistencyMacKey,
  secaggConsistencyMacKeyReference,
  verifySecaggConsistencyMac,
} from './secagg-mac';
import { secaggPairKey } from './secagg';

const RD = { federationId: 'fed-1', round: 3, baseVersionId: 'fed-1.v2', coordinatorFingerprint: 'aaaa-bbbb' };
const u = generateIdentity();
const w = generateIdentity();
const x = generateIdentity();
const digest = new Uint8Array(randomBytes(32));

/** u's end (its secret, w's public) and w's end (its secret, u's public) of the MAC u → w. */
const atU = { ...RD, from: 'site-u', to: 'site-w', boxSecretKey: u.box.secretKey, peerBoxPublicKey: w.box.publicKey };
const atW = { ...RD, from: 'site-u', to: 'site-w', boxSecretKey: w.box.secretKey, peerBoxPublicKey: u.box.publicKey };

describe('SecAgg+ consistency MACs', () => {
  test('deterministic per pair and direction: both ends derive the same key, the reverse direction another', () => {
    const key = secaggConsistencyMacKey(atU)!;
    expect(key).toHaveLength(32);
    expect(secaggConsistencyMacKey(atU)).toEqual(key);
    expect(secaggConsistencyMacKey(atW)).toEqual(key);
    const reverse = secaggConsistencyMacKey({ ...atW, from: 'site-w', to: 'site-u' })!;
    expect(toB64(reverse)).not.toBe(toB64(key));
    // Another round, another neighbour: other keys.
    expect(toB64(secaggConsistencyMacKey({ ...atU, round: 4 })!)).not.toBe(toB64(key));
    const toX = secaggConsistencyMacKey({ ...atU, to: 'site-x', peerBoxPublicKey: x.box.publicKey })!;
    expect(toB64(toX)).not.toBe(toB64(key));
  });

  test("a MAC made by u verifies at w over the same digest only: not another digest, direction, round, or a third site's key", () => {
    const mac = secaggConsistencyMac({ ...atU, digest })!;
    expect(fromB64(mac)).toHaveLength(32);
    expect(verifySecaggConsistencyMac({ ...atW, digest, mac })).toBe(true);
    const other = Uint8Array.from(digest, (b, i) => (i === 0 ? b ^ 1 : b));
    expect(verifySecaggConsistencyMac({ ...atW, digest: other, mac })).toBe(false);
    expect(verifySecaggConsistencyMac({ ...atW, from: 'site-w', to: 'site-u', digest, mac })).toBe(false);
    expect(verifySecaggConsistencyMac({ ...atW, round: 4, digest, mac })).toBe(false);
    // x (the coordinator, or any site but u and w) cannot make it: its agreement with w is another one.
    const forged = secaggConsistencyMac({ ...atU, boxSecretKey: x.box.secretKey, digest })!;
    expect(verifySecaggConsistencyMac({ ...atW, digest, mac: forged })).toBe(false);
    for (const bad of ['', 'not base64!', toB64(new Uint8Array(31)), `${mac.slice(0, -2)}==`])
      expect(verifySecaggConsistencyMac({ ...atW, digest, mac: bad })).toBe(false);
    // A low-order peer key gives no key at all.
    expect(secaggConsistencyMac({ ...atU, peerBoxPublicKey: new Uint8Array(32), digest })).toBeNull();
    expect(verifySecaggConsistencyMac({ ...atW, peerBoxPublicKey: new Uint8Array(32), digest, mac })).toBe(false);
  });

  test('the key differs from the share-box keys of the same identity pair and from the pairwise mask keys', () => {
    const key = toB64(secaggConsistencyMacKey(atU)!);
    const shared = x25519(u.box.secretKey, w.box.publicKey)!;
    // A box u → w derives HKDF(shared, nonce, "twinfed/box/v1" ‖ M_u ‖ M_w) (box.ts).
    const boxInfo = concatBytes([utf8('twinfed/box/v1'), u.box.publicKey, w.box.publicKey]);
    for (let i = 0; i < 4; i++)
      expect(toB64(hkdfSha256(shared, new Uint8Array(randomBytes(24)), boxInfo, 44).subarray(0, 32))).not.toBe(key);
    const pair = secaggPairKey({
      ...RD,
      maskSecretKey: u.box.secretKey,
      siteId: 'site-u',
      peer: { siteId: 'site-w', boxPublicKey: w.box.publicKey },
    });
    expect(toB64(pair)).not.toBe(key);
  });

  test('property: the key from the kept per-pair PRK is HKDF-SHA256 from scratch (hkdfSha256), for any pair, ids and round', () => {
    const keys = Array.from({ length: 4 }, () => generateIdentity());
    fc.assert(
      fc.property(
        fc.nat({ max: 3 }),
        fc.nat({ max: 3 }),
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 1000 }),
        (i, j, from, to, round) => {
          const o = {
            ...RD,
            round,
            from,
            to,
            boxSecretKey: keys[i]!.box.secretKey,
            peerBoxPublicKey: keys[j]!.box.publicKey,
          };
          const key = secaggConsistencyMacKey(o)!;
          expect(toB64(key)).toBe(toB64(secaggConsistencyMacKeyReference(o)!));
          // And the MAC is HMAC-SHA256 under that key, as node computes it.
          expect(secaggConsistencyMac({ ...o, digest })).toBe(
            createHmac('sha256', key).update(digest).digest('base64'),
          );
        },
      ),
      { numRuns: 80 },
    );
    // A secret array changed in place is not served another key's kept PRK.
    const secret = generateIdentity().box.secretKey.slice();
    const o = { ...atU, boxSecretKey: secret };
    const before = toB64(secaggConsistencyMacKey(o)!);
    secret.set(x.box.secretKey);
    expect(toB64(secaggConsistencyMacKey(o)!)).not.toBe(before);
    expect(toB64(secaggConsistencyMacKey(o)!)).toBe(toB64(secaggConsistencyMacKeyReference(o)!));
  });

  test('property: for any digest and pair of ids, the MAC verifies at the other end and a flipped bit of it does not', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.nat({ max: 255 }),
        (d, from, to, bit) => {
          fc.pre(from !== to);
          const mac = secaggConsistencyMac({ ...atU, from, to, digest: d })!;
          expect(verifySecaggConsistencyMac({ ...atW, from, to, digest: d, mac })).toBe(true);
          const flipped = fromB64(mac).slice();
          flipped[bit % 32]! ^= 1 << (bit % 8);
          expect(verifySecaggConsistencyMac({ ...atW, from, to, digest: d, mac: toB64(flipped) })).toBe(false);
          expect(verifySecaggConsistencyMac({ ...atW, from: to, to: from, digest: d, mac })).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
  });
});
