import { createHash } from 'node:crypto';
import { randomBytes, sha256, sha256Hex, sha256Parts, timingSafeEqualBytes, timingSafeEqualHex } from './hash';
import { TOKEN_RANDOM_BYTES, generateToken, hashToken } from './token';
import { fromB64Url } from './encoding';

describe('hashes', () => {
  test('matches known SHA-256 vectors', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(Buffer.from(sha256(new Uint8Array([0x61, 0x62, 0x63]))).toString('hex')).toBe(sha256Hex('abc'));
  });

  test('hashes parts like their concatenation', () => {
    expect(sha256Parts(['a', new Uint8Array([0x62]), 'c'])).toEqual(sha256('abc'));
  });

  test('draws random bytes of the requested length', () => {
    expect(randomBytes(0)).toHaveLength(0);
    const a = randomBytes(32);
    expect(a).toHaveLength(32);
    expect(a).not.toEqual(randomBytes(32));
    expect(() => randomBytes(-1)).toThrow();
  });

  test('compares hex in constant time, false on junk', () => {
    const h = sha256Hex('x');
    expect(timingSafeEqualHex(h, h)).toBe(true);
    expect(timingSafeEqualHex(h, h.toUpperCase())).toBe(true);
    expect(timingSafeEqualHex(h, sha256Hex('y'))).toBe(false);
    expect(timingSafeEqualHex(h, h.slice(2))).toBe(false);
    expect(timingSafeEqualHex('zz', 'zz')).toBe(false);
    expect(timingSafeEqualHex('abc', 'abc')).toBe(false);
    expect(timingSafeEqualBytes(new Uint8Array([1]), new Uint8Array([1, 2]))).toBe(false);
    expect(timingSafeEqualBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
  });
});

describe('tokens', () => {
  test('generates prefixed 256-bit tokens, all different', () => {
    const t = generateToken('tfe_');
    expect(t.startsWith('tfe_')).toBe(true);
    expect(fromB64Url(t.slice(4))).toHaveLength(TOKEN_RANDOM_BYTES);
    expect(new Set(Array.from({ length: 50 }, () => generateToken('tfo_'))).size).toBe(50);
  });

  test('rejects bad prefixes', () => {
    expect(() => generateToken('TFE_')).toThrow();
    expect(() => generateToken('tfe')).toThrow();
  });

  test('hashes tokens with SHA-256', () => {
    const t = generateToken('tfr_');
    expect(hashToken(t)).toBe(createHash('sha256').update(t, 'utf8').digest('hex'));
    expect(timingSafeEqualHex(hashToken(t), hashToken(t))).toBe(true);
    expect(hashToken(t)).not.toBe(hashToken(t + 'x'));
  });
});
