import fc from 'fast-check';
import { PROTOCOL_VERSION } from '../protocol';
import { generateIdentity } from '../crypto/identity';
import { isTwinfedError } from '../errors';
import type { Layout, WeightSet } from '../weights/types';
import { openUpdate, parseUpdate, sealUpdate, verifyUpdateSignature } from './update-envelope';

// A deliberately small envelope so that every byte position can be tried.
const site = generateIdentity();
const coord = generateIdentity();
const layout: Layout = [{ name: 'w', shape: [2], dtype: 'float32' }];
const weights: WeightSet = { layout, data: Float32Array.from([1, -2]) };
const envelope = sealUpdate({
  header: {
    protocol: PROTOCOL_VERSION,
    federationId: 'f',
    round: 1,
    siteId: 's',
    baseVersionId: 'v0',
    numExamples: 9,
    metrics: { l: 0.5 },
    sentAt: '2025-01-01T00:00:00.000Z',
  },
  weights,
  identity: site,
  coordinatorBoxPublicKey: coord.box.publicKey,
});
const SECURITY_CODES = ['INVALID_ENVELOPE', 'PROTOCOL_MISMATCH', 'BAD_SIGNATURE', 'DECRYPT_FAILED', 'INVALID_WEIGHTS'];

function pipeline(bytes: Uint8Array): WeightSet {
  const { header, ciphertext } = parseUpdate(bytes);
  verifyUpdateSignature({ header, ciphertext, siteSignPublicKey: site.sign.publicKey });
  return openUpdate({
    header,
    ciphertext,
    siteBoxPublicKey: site.box.publicKey,
    coordinatorBoxSecretKey: coord.box.secretKey,
    expectedLayout: layout,
  });
}
function rejected(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (e) {
    if (isTwinfedError(e) && SECURITY_CODES.includes(e.code)) return true;
    throw e;
  }
}
function flip(bytes: Uint8Array, pos: number, mask: number): Uint8Array {
  const bad = new Uint8Array(bytes);
  bad[pos] = bad[pos]! ^ mask;
  return bad;
}
const headerLength = new DataView(envelope.buffer, envelope.byteOffset).getUint32(5, true);
const headerText = Buffer.from(envelope.subarray(9, 9 + headerLength)).toString();
const sigValue = JSON.parse(headerText).signature as string;
const sigStart = 9 + headerText.indexOf(sigValue);

describe('tampering with a sealed update', () => {
  test('the untampered envelope is accepted', () => {
    expect(Array.from(pipeline(envelope).data)).toEqual([1, -2]);
  });

  test(`rejects EVERY single-byte flip (all ${envelope.length} positions) in the full pipeline`, () => {
    for (let pos = 0; pos < envelope.length; pos++) {
      expect(rejected(() => pipeline(flip(envelope, pos, 0x01)))).toBe(true);
    }
  });

  test('the AEAD alone rejects every flip outside the signature value (header bound as AAD)', () => {
    let checked = 0;
    for (let pos = 0; pos < envelope.length; pos++) {
      if (pos >= sigStart && pos < sigStart + sigValue.length) continue;
      const bad = flip(envelope, pos, 0x20);
      expect(
        rejected(() => {
          const { header, ciphertext } = parseUpdate(bad);
          openUpdate({
            header,
            ciphertext,
            siteBoxPublicKey: site.box.publicKey,
            coordinatorBoxSecretKey: coord.box.secretKey,
            expectedLayout: layout,
          });
        }),
      ).toBe(true);
      checked++;
    }
    expect(checked).toBe(envelope.length - sigValue.length);
  });

  test('rejects every single-byte flip of the signature value (signature check)', () => {
    for (let pos = sigStart; pos < sigStart + sigValue.length; pos++) {
      expect(rejected(() => pipeline(flip(envelope, pos, 0x02)))).toBe(true);
    }
  });

  test('rejects random flips with any mask, truncations and extensions (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: envelope.length - 1 }), fc.integer({ min: 1, max: 255 }), (pos, mask) => {
        expect(rejected(() => pipeline(flip(envelope, pos, mask)))).toBe(true);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: envelope.length - 1 }), (n) => {
        expect(rejected(() => pipeline(envelope.subarray(0, n)))).toBe(true);
      }),
      { numRuns: 100 },
    );
    const longer = new Uint8Array(envelope.length + 1);
    longer.set(envelope);
    expect(rejected(() => pipeline(longer))).toBe(true);
  });
});
