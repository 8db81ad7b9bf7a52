import fc from 'fast-check';
import { isTwinfedError } from '../errors';
import { concatBytes, fromB64, fromB64Url, fromUtf8, toB64, toB64Url, utf8 } from './encoding';

describe('base64', () => {
  test('round-trips any bytes (standard and url)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(fromB64(toB64(bytes))).toEqual(bytes);
        expect(fromB64Url(toB64Url(bytes))).toEqual(bytes);
      }),
    );
  });

  test.each([
    ['missing padding', 'QQ'],
    ['non-zero unused bits', 'QR=='],
    ['whitespace', 'QUJD REVG'],
    ['trailing newline', 'QUJD\n'],
    ['url alphabet', 'a-_b'],
    ['junk', '!!!!'],
    ['too much padding', 'QQ==='],
  ])('rejects %s with VALIDATION_FAILED', (_label, text) => {
    let err: unknown;
    try {
      fromB64(text);
    } catch (e) {
      err = e;
    }
    expect(isTwinfedError(err, 'VALIDATION_FAILED')).toBe(true);
  });

  test('uses the requested error code', () => {
    expect(() => fromB64('QR==', 'BAD_SIGNATURE')).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE' }));
  });

  test('rejects non-canonical and padded base64url', () => {
    expect(() => fromB64Url('QR')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => fromB64Url('QQ==')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => fromB64Url('Q')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});

describe('utf8', () => {
  test('round-trips text and rejects malformed bytes', () => {
    expect(fromUtf8(utf8('héllo ✓'))).toBe('héllo ✓');
    expect(() => fromUtf8(new Uint8Array([0xc3, 0x28]), 'INVALID_ENVELOPE')).toThrow(
      expect.objectContaining({ code: 'INVALID_ENVELOPE' }),
    );
  });

  test('concatenates', () => {
    expect(concatBytes([new Uint8Array([1]), new Uint8Array([]), new Uint8Array([2, 3])])).toEqual(
      new Uint8Array([1, 2, 3]),
    );
  });
});
