import { PROTOCOL_VERSION } from '../protocol';
import { generateIdentity } from '../crypto/identity';
import { utf8 } from '../crypto/encoding';
import { sha256Hex } from '../crypto/hash';
import type { Layout, WeightSet } from '../weights/types';
import { canonicalJson } from './canonical-json';
import { openUpdate, parseUpdate, sealUpdate, updateDigest, verifyUpdateSignature } from './update-envelope';
import type { UpdateHeaderInput } from './update-header';
import { codeOf } from '../__tests__/code-of';

const site = generateIdentity();
const coord = generateIdentity();
const layout: Layout = [{ name: 'w', shape: [3], dtype: 'float32' }];
const weights: WeightSet = { layout, data: Float32Array.from([0.25, -1.5, 3]) };
const header: UpdateHeaderInput = {
  protocol: PROTOCOL_VERSION,
  federationId: 'fed-1',
  round: 2,
  siteId: 'site-a',
  baseVersionId: 'v1',
  numExamples: 120,
  metrics: { loss: 0.5, auc: 0.8 },
  sentAt: '2025-01-02T03:04:05.678Z',
};
const seal = (over: Partial<Parameters<typeof sealUpdate>[0]> = {}) =>
  sealUpdate({ header, weights, identity: site, coordinatorBoxPublicKey: coord.box.publicKey, ...over });

function receive(bytes: Uint8Array): WeightSet {
  const { header: h, ciphertext } = parseUpdate(bytes, { maxBytes: 1 << 20 });
  verifyUpdateSignature({ header: h, ciphertext, siteSignPublicKey: site.sign.publicKey });
  return openUpdate({
    header: h,
    ciphertext,
    siteBoxPublicKey: site.box.publicKey,
    coordinatorBoxSecretKey: coord.box.secretKey,
    expectedLayout: layout,
    maxBytes: 1 << 20,
  });
}

describe('update envelope', () => {
  test('round-trips weights and header', () => {
    const bytes = seal();
    expect(Buffer.from(bytes.subarray(0, 4)).toString()).toBe('TWFU');
    expect(bytes[4]).toBe(1);
    const { header: h, ciphertext } = parseUpdate(bytes);
    expect(h).toMatchObject(header);
    expect(Buffer.from(h.nonce, 'base64')).toHaveLength(24);
    expect(ciphertext.length).toBeGreaterThan(3 * 4 + 16);
    expect(Array.from(receive(bytes).data)).toEqual([0.25, -1.5, 3]);
  });

  test('writes a canonical header and encrypts (no plaintext float bytes visible)', () => {
    const bytes = seal();
    const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(5, true);
    const text = Buffer.from(bytes.subarray(9, 9 + len)).toString();
    expect(canonicalJson(JSON.parse(text))).toBe(text);
    const needle = Buffer.from(new Float32Array([0.25, -1.5, 3]).buffer);
    expect(Buffer.from(bytes).indexOf(needle)).toBe(-1);
  });

  test('gives each seal a fresh nonce and a distinct digest; digest is stable per bytes', () => {
    const a = seal();
    const b = seal();
    expect(updateDigest(a)).not.toBe(updateDigest(b));
    expect(updateDigest(a)).toBe(sha256Hex(a));
    expect(updateDigest(new Uint8Array(a))).toBe(updateDigest(a));
  });

  test('rejects the wrong site keys, coordinator key and layout', () => {
    const { header: h, ciphertext } = parseUpdate(seal());
    const mallory = generateIdentity();
    expect(
      codeOf(() => verifyUpdateSignature({ header: h, ciphertext, siteSignPublicKey: mallory.sign.publicKey })),
    ).toBe('BAD_SIGNATURE');
    const open = (over: Partial<Parameters<typeof openUpdate>[0]>) =>
      codeOf(() =>
        openUpdate({
          header: h,
          ciphertext,
          siteBoxPublicKey: site.box.publicKey,
          coordinatorBoxSecretKey: coord.box.secretKey,
          ...over,
        }),
      );
    expect(open({})).toBe('none');
    expect(open({ siteBoxPublicKey: mallory.box.publicKey })).toBe('DECRYPT_FAILED');
    expect(open({ coordinatorBoxSecretKey: mallory.box.secretKey })).toBe('DECRYPT_FAILED');
    expect(open({ expectedLayout: [{ name: 'w', shape: [4], dtype: 'float32' }] })).toBe('INVALID_WEIGHTS');
    expect(open({ maxBytes: 16 })).toBe('PAYLOAD_TOO_LARGE');
    // Sealed to another coordinator.
    const elsewhere = parseUpdate(seal({ coordinatorBoxPublicKey: mallory.box.publicKey }));
    expect(
      codeOf(() =>
        openUpdate({
          ...elsewhere,
          siteBoxPublicKey: site.box.publicKey,
          coordinatorBoxSecretKey: coord.box.secretKey,
        }),
      ),
    ).toBe('DECRYPT_FAILED');
  });

  test('does not let a ciphertext move under another header, even one the site signs itself', () => {
    const a = parseUpdate(seal());
    const b = parseUpdate(seal({ header: { ...header, round: 3 } }));
    // b's header with a's ciphertext: the signature of b does not cover a's ciphertext…
    expect(
      codeOf(() =>
        verifyUpdateSignature({ header: b.header, ciphertext: a.ciphertext, siteSignPublicKey: site.sign.publicKey }),
      ),
    ).toBe('BAD_SIGNATURE');
    // …and the AEAD refuses it regardless of signatures.
    expect(
      codeOf(() =>
        openUpdate({
          header: b.header,
          ciphertext: a.ciphertext,
          siteBoxPublicKey: site.box.publicKey,
          coordinatorBoxSecretKey: coord.box.secretKey,
        }),
      ),
    ).toBe('DECRYPT_FAILED');
  });

  test('refuses invalid headers and weights when sealing', () => {
    expect(codeOf(() => seal({ header: { ...header, round: 0 } }))).toBe('INVALID_ENVELOPE');
    expect(codeOf(() => seal({ header: { ...header, numExamples: 1.5 } }))).toBe('INVALID_ENVELOPE');
    expect(codeOf(() => seal({ header: { ...header, sentAt: 'yesterday' } }))).toBe('INVALID_ENVELOPE');
    expect(codeOf(() => seal({ header: { ...header, metrics: { loss: Infinity } } }))).toBe('INVALID_ENVELOPE');
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`m${i}`, i]));
    expect(codeOf(() => seal({ header: { ...header, metrics: many } }))).toBe('INVALID_ENVELOPE');
    expect(codeOf(() => seal({ header: { ...header, extra: 1 } as UpdateHeaderInput }))).toBe('INVALID_ENVELOPE');
    expect(codeOf(() => seal({ header: { ...header, protocol: PROTOCOL_VERSION + 1 } }))).toBe('PROTOCOL_MISMATCH');
    expect(codeOf(() => seal({ weights: { layout, data: Float32Array.from([0, NaN, 1]) } }))).toBe(
      'NON_FINITE_WEIGHTS',
    );
  });

  test('parseUpdate validates framing and schema without crypto', () => {
    const bytes = seal();
    expect(codeOf(() => parseUpdate(bytes, { maxBytes: bytes.length - 1 }))).toBe('PAYLOAD_TOO_LARGE');
    expect(codeOf(() => parseUpdate(bytes.subarray(0, 8)))).toBe('INVALID_ENVELOPE');
    for (const n of [9, 20, 100]) expect(codeOf(() => parseUpdate(bytes.subarray(0, n)))).toBe('INVALID_ENVELOPE');
    const withHeader = (text: string, version = 1) => {
      const h = utf8(text);
      const out = new Uint8Array(9 + h.length + 32);
      out.set(utf8('TWFU'));
      out[4] = version;
      new DataView(out.buffer).setUint32(5, h.length, true);
      out.set(h, 9);
      return out;
    };
    const { header: good } = parseUpdate(bytes);
    expect(codeOf(() => parseUpdate(withHeader(canonicalJson(good))))).toBe('none');
    expect(codeOf(() => parseUpdate(withHeader(canonicalJson(good), 2)))).toBe('INVALID_ENVELOPE');
    expect(codeOf(() => parseUpdate(withHeader(JSON.stringify(good, null, 1))))).toBe('INVALID_ENVELOPE');
    expect(codeOf(() => parseUpdate(withHeader(canonicalJson({ ...good, x: 1 }))))).toBe('INVALID_ENVELOPE');
    expect(codeOf(() => parseUpdate(withHeader(canonicalJson({ ...good, protocol: 2 }))))).toBe('PROTOCOL_MISMATCH');
    expect(codeOf(() => parseUpdate(withHeader(canonicalJson({ ...good, nonce: 'AAAA' }))))).toBe('INVALID_ENVELOPE');
    expect(codeOf(() => parseUpdate(withHeader('[]')))).toBe('INVALID_ENVELOPE');
    expect(codeOf(() => parseUpdate(new Uint8Array([0x54, 0x57, 0x46, 0x57, 1, 0, 0, 0, 0])))).toBe('INVALID_ENVELOPE');
  });
});
