import { hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { hkdfSha256 } from './hkdf';

const text = new TextEncoder();

describe('hkdfSha256', () => {
  test("gives node's hkdfSync bytes for random key material, salts, infos (bytes or text) and lengths", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 80 }),
        fc.uint8Array({ minLength: 0, maxLength: 80 }),
        fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 60 })),
        fc.integer({ min: 0, max: 300 }),
        (ikm, salt, info, length) => {
          const infoBytes = typeof info === 'string' ? text.encode(info) : info;
          const expected = new Uint8Array(hkdfSync('sha256', ikm, salt, infoBytes, length));
          expect(hkdfSha256(ikm, salt, info, length)).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('RFC 5869 test case 1, a salt given as text, and the longest output', () => {
    const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
    expect(
      Buffer.from(
        hkdfSha256(hex('0b'.repeat(22)), hex('000102030405060708090a0b0c'), hex('f0f1f2f3f4f5f6f7f8f9'), 42),
      ).toString('hex'),
    ).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
    const ikm = hex('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff');
    expect(hkdfSha256(ikm, 'twinfed/secagg/v3', 'info', 32)).toEqual(
      new Uint8Array(hkdfSync('sha256', ikm, text.encode('twinfed/secagg/v3'), text.encode('info'), 32)),
    );
    expect(hkdfSha256(ikm, '', '', 8160)).toEqual(new Uint8Array(hkdfSync('sha256', ikm, '', '', 8160)));
    expect(() => hkdfSha256(ikm, '', '', 8161)).toThrow('0 to 8160 bytes');
  });
});
