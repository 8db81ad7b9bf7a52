import { createDecipheriv, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { BOX_NONCE_BYTES, BOX_OVERHEAD_BYTES, newBoxNonce, openBox, sealBox, sealBoxParts } from './box';
import { concatBytes, utf8 } from './encoding';
import { generateIdentity } from './identity';

const site = generateIdentity();
const coord = generateIdentity();
const other = generateIdentity();
const aad = utf8('header');

function seal(plaintext: Uint8Array, extra: { aad?: Uint8Array; nonce?: Uint8Array } = {}) {
  return sealBox({
    plaintext,
    aad,
    recipientBoxPublicKey: coord.box.publicKey,
    senderBoxSecretKey: site.box.secretKey,
    ...extra,
  });
}
function open(ciphertext: Uint8Array, nonce: Uint8Array, extra: Partial<Parameters<typeof openBox>[0]> = {}) {
  return openBox({
    ciphertext,
    nonce,
    aad,
    senderBoxPublicKey: site.box.publicKey,
    recipientBoxSecretKey: coord.box.secretKey,
    ...extra,
  });
}
const decryptFailed = expect.objectContaining({ code: 'DECRYPT_FAILED' });

describe('sealBox / openBox', () => {
  test('round-trips arbitrary plaintexts', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (pt) => {
        const { nonce, ciphertext } = seal(pt);
        expect(nonce).toHaveLength(BOX_NONCE_BYTES);
        expect(ciphertext).toHaveLength(pt.length + BOX_OVERHEAD_BYTES);
        expect(open(ciphertext, nonce)).toEqual(pt);
      }),
      { numRuns: 40 },
    );
  });

  test('sealBoxParts over split plaintext equals one box over the whole plaintext', () => {
    const nonce = newBoxNonce();
    const whole = seal(utf8('hello, world'), { nonce });
    const { parts } = sealBoxParts({
      plaintext: [utf8('hello'), utf8(', '), utf8('world')],
      aad,
      recipientBoxPublicKey: coord.box.publicKey,
      senderBoxSecretKey: site.box.secretKey,
      nonce,
    });
    expect(concatBytes(parts)).toEqual(whole.ciphertext);
  });

  test('follows the documented construction (X25519 → HKDF-SHA256 → AES-256-GCM)', () => {
    const pt = utf8('spec check');
    const { nonce, ciphertext } = seal(pt);
    const shared = nacl.scalarMult(coord.box.secretKey, site.box.publicKey);
    const info = Buffer.concat([Buffer.from('twinfed/box/v1'), site.box.publicKey, coord.box.publicKey]);
    const okm = Buffer.from(hkdfSync('sha256', shared, nonce, info, 44));
    const d = createDecipheriv('aes-256-gcm', okm.subarray(0, 32), okm.subarray(32), { authTagLength: 16 });
    d.setAAD(aad);
    d.setAuthTag(ciphertext.subarray(-16));
    expect(Buffer.concat([d.update(ciphertext.subarray(0, -16)), d.final()]).toString()).toBe('spec check');
  });

  test('uses a fresh nonce per message', () => {
    const pt = utf8('same');
    const a = seal(pt);
    const b = seal(pt);
    expect(a.nonce).not.toEqual(b.nonce);
    expect(a.ciphertext).not.toEqual(b.ciphertext);
  });

  test('accepts a caller-drawn nonce', () => {
    const nonce = newBoxNonce();
    const box = seal(utf8('x'), { nonce });
    expect(box.nonce).toBe(nonce);
    expect(open(box.ciphertext, nonce)).toEqual(utf8('x'));
  });

  test('rejects every single-byte tamper of ciphertext and nonce', () => {
    const { nonce, ciphertext } = seal(utf8('sixteen bytes!!!'));
    for (let i = 0; i < ciphertext.length; i++) {
      const bad = new Uint8Array(ciphertext);
      bad[i] = bad[i]! ^ 0x01;
      expect(() => open(bad, nonce)).toThrow(decryptFailed);
    }
    for (let i = 0; i < nonce.length; i++) {
      const bad = new Uint8Array(nonce);
      bad[i] = bad[i]! ^ 0x80;
      expect(() => open(ciphertext, bad)).toThrow(decryptFailed);
    }
  });

  test('rejects other AAD, wrong keys, reflection and truncation', () => {
    const { nonce, ciphertext } = seal(utf8('payload'));
    expect(() => open(ciphertext, nonce, { aad: utf8('headeR') })).toThrow(decryptFailed);
    expect(() => open(ciphertext, nonce, { aad: undefined })).toThrow(decryptFailed);
    expect(() => open(ciphertext, nonce, { senderBoxPublicKey: other.box.publicKey })).toThrow(decryptFailed);
    expect(() => open(ciphertext, nonce, { recipientBoxSecretKey: other.box.secretKey })).toThrow(decryptFailed);
    // Same shared secret, opposite direction: the site "receiving" its own box as if the coordinator sent it.
    expect(() =>
      open(ciphertext, nonce, { senderBoxPublicKey: coord.box.publicKey, recipientBoxSecretKey: site.box.secretKey }),
    ).toThrow(decryptFailed);
    expect(() => open(ciphertext.subarray(0, 15), nonce)).toThrow(decryptFailed);
    expect(() => open(ciphertext, nonce.subarray(1))).toThrow(decryptFailed);
    expect(() => open(ciphertext, nonce, { senderBoxPublicKey: new Uint8Array(31) })).toThrow(decryptFailed);
  });

  test('rejects low-order (all-zero) public keys', () => {
    expect(() =>
      sealBox({
        plaintext: utf8('x'),
        recipientBoxPublicKey: new Uint8Array(32),
        senderBoxSecretKey: site.box.secretKey,
      }),
    ).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    const { nonce, ciphertext } = seal(utf8('x'));
    expect(() => open(ciphertext, nonce, { senderBoxPublicKey: new Uint8Array(32) })).toThrow(decryptFailed);
  });

  test('throws INTERNAL on malformed seal arguments', () => {
    expect(() =>
      sealBox({
        plaintext: utf8('x'),
        recipientBoxPublicKey: coord.box.publicKey,
        senderBoxSecretKey: new Uint8Array(16),
      }),
    ).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(() => seal(utf8('x'), { nonce: new Uint8Array(12) })).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});
