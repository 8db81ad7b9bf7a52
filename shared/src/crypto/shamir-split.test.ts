import fc from 'fast-check';
import { combine, split } from 'shamir-secret-sharing';
import { combineShamirShares } from './shamir-combine';
import { evaluateShares, splitShamirSecret } from './shamir-split';
import { shareSubset } from './__tests__/share-subset';

describe('splitShamirSecret', () => {
  test('any t or more of its shares, in any order, recombine the secret with the library and with combineShamirShares', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 17 }),
        fc.integer({ min: 2, max: 255 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        async (secret, shareCount, thresholdSeed, pickSeed) => {
          const threshold = 2 + (thresholdSeed % (shareCount - 1));
          const kept = secret.slice();
          const shares = splitShamirSecret(secret, shareCount, threshold);
          expect(secret).toEqual(kept);
          expect(shares).toHaveLength(shareCount);
          const xs = shares.map((s) => s[secret.byteLength]!);
          expect(shares.every((s) => s.byteLength === secret.byteLength + 1)).toBe(true);
          expect(new Set(xs).size).toBe(shareCount);
          expect(xs).not.toContain(0);
          const subset = shareSubset(shares, threshold, pickSeed);
          expect(await combine(subset)).toEqual(secret);
          expect(combineShamirShares(subset)).toEqual(secret);
        },
      ),
      { numRuns: 30 },
    );
  });

  test('t − 1 shares do not give the secret: the polynomials have degree t − 1, with fresh coefficients every split', async () => {
    // A 32-byte secret from too few shares matches by chance with probability 2^-256; a polynomial of lower degree
    // (too few random coefficients) would give it back every time.
    const secret = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
    for (const [n, t] of [
      [5, 3],
      [109, 73],
      [255, 255],
    ] as const) {
      const a = splitShamirSecret(secret, n, t);
      const b = splitShamirSecret(secret, n, t);
      expect(combineShamirShares(a.slice(0, t - 1))).not.toEqual(secret);
      expect(await combine(a.slice(n - t + 1))).not.toEqual(secret);
      expect(combineShamirShares(a.slice(n - t))).toEqual(secret);
      // Another split of the same secret: other coordinates or other values.
      expect(a).not.toEqual(b);
    }
  });

  test('at the secure-aggregation size the library recombines it as its own: 73 of 109 shares of a 32-byte secret', async () => {
    const secret = Uint8Array.from({ length: 32 }, (_, i) => (i * 53 + 7) & 0xff);
    const ours = splitShamirSecret(secret, 109, 73);
    const theirs = await split(secret, 109, 73);
    expect(await combine([...ours.slice(10, 83)])).toEqual(secret);
    expect(combineShamirShares(theirs.slice(36))).toEqual(secret);
  });

  test('refuses what the library refuses, with its error class and message', async () => {
    const cases: [Uint8Array, number, number][] = [
      [new Uint8Array(0), 5, 3], // empty secret
      [new Uint8Array([1]), 1, 1], // fewer than 2 shares
      [new Uint8Array([1]), 256, 3], // more than 255 shares
      [new Uint8Array([1]), 5, 1], // threshold below 2
      [new Uint8Array([1]), 5, 256], // threshold above 255
      [new Uint8Array([1]), 3, 4], // fewer shares than the threshold
    ];
    for (const [secret, n, t] of cases) {
      const theirs = await split(secret, n, t).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(theirs).toBeDefined();
      expect(() => splitShamirSecret(secret, n, t)).toThrow(theirs!.constructor as new () => Error);
      expect(() => splitShamirSecret(secret, n, t)).toThrow(theirs!.message);
    }
  });

  test("its shares are the polynomials' values by Horner's rule with a field product of its own (not the tables)", () => {
    // a · b in GF(2^8) modulo 0x11b, bit by bit
    const mul = (a: number, b: number): number => {
      let p = 0;
      for (; b > 0; b >>= 1, a = (a << 1) ^ (a & 0x80 ? 0x11b : 0)) if (b & 1) p ^= a;
      return p;
    };
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 33 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 255 }), { minLength: 1, maxLength: 255 }),
        fc.integer({ min: 1, max: 254 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (secret, xs, degree, seed) => {
          // Coefficients with many zeros and extremes (0, 1, 255) as well as the rest.
          const coefficients = Uint8Array.from({ length: secret.length * degree }, (_, i) => {
            const r = (Math.imul(i + 1, 2654435761) ^ seed) >>> 0;
            return r % 4 === 0 ? 0 : r % 4 === 1 ? [1, 255][r % 2]! : r % 256;
          });
          const shares = evaluateShares(secret, Uint8Array.from(xs), coefficients);
          const expected = xs.map((x) => {
            const share = new Uint8Array(secret.length + 1);
            share[secret.length] = x;
            for (let b = 0; b < secret.length; b++) {
              let y = 0;
              for (let i = degree; i >= 1; i--) y = mul(y, x) ^ coefficients[b * degree + i - 1]!;
              share[b] = mul(y, x) ^ secret[b]!;
            }
            return share;
          });
          expect(shares).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
