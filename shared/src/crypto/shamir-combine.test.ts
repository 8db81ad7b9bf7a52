import fc from 'fast-check';
import { combine, split } from 'shamir-secret-sharing';
import { combineShamirShares } from './shamir-combine';
import { shareSubset } from './__tests__/share-subset';

describe('combineShamirShares', () => {
  test("gives the library's bytes (and the secret) for any t or more of split's shares, in any order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 33 }),
        fc.integer({ min: 2, max: 255 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        async (secret, shareCount, thresholdSeed, pickSeed) => {
          const threshold = 2 + (thresholdSeed % (shareCount - 1));
          const shares = await split(secret, shareCount, threshold);
          const subset = shareSubset(shares, threshold, pickSeed); // threshold … shareCount of them, shuffled
          const fast = combineShamirShares(subset);
          expect(fast).toEqual(await combine(subset));
          expect(fast).toEqual(secret);
        },
      ),
      { numRuns: 50 },
    );
  });

  test("gives the library's bytes for any shares with distinct x, too few or not from split (x = 0 included)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 255 }), { minLength: 2, maxLength: 255 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        async (xs, secretLength, seed) => {
          let state = seed;
          const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 24;
          const shares = xs.map((x) => {
            const share = new Uint8Array(secretLength + 1);
            for (let b = 0; b < secretLength; b++) share[b] = next();
            share[secretLength] = x;
            return share;
          });
          expect(combineShamirShares(shares)).toEqual(await combine(shares));
        },
      ),
      { numRuns: 100 },
    );
  });

  test('at the secure-aggregation size: 73 of 109 shares of a 32-byte secret', async () => {
    const secret = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
    const shares = await split(secret, 109, 73);
    expect(combineShamirShares(shares.slice(36))).toEqual(secret);
    expect(combineShamirShares(shares.slice(0, 73))).toEqual(await combine(shares.slice(0, 73)));
  });

  test('refuses what the library refuses', async () => {
    const shares = await split(new Uint8Array([1, 2, 3]), 5, 3);
    const cases: Uint8Array[][] = [
      [shares[0]!], // fewer than 2
      [shares[0]!, shares[0]!], // a repeated x
      [shares[0]!, shares[1]!.slice(1)], // different lengths
      [new Uint8Array([1]), new Uint8Array([2])], // shorter than 2 bytes
      Array.from({ length: 256 }, (_, i) => new Uint8Array([0, i])), // more than 255
    ];
    for (const c of cases) {
      expect(() => combineShamirShares(c)).toThrow();
      await expect(combine(c)).rejects.toThrow();
    }
  });
});
