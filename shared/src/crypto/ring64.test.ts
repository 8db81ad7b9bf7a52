import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { SeededRandom } from '../random';
import {
  addRing64,
  decodeRing64,
  encodeRing64,
  expandRing64,
  fromBytesRing64,
  Ring64Sum,
  ringToBytes64,
  subRing64,
} from './ring64';
import { encodeFixedPoint, ringToBytes } from './secure-sum';

const toBig = (r: Uint32Array): bigint[] =>
  Array.from({ length: r.length / 2 }, (_, i) => (BigInt(r[2 * i + 1]!) << 32n) | BigInt(r[2 * i]!));
const M = 1n << 64n;

describe('ring64', () => {
  test("encodes like the secure sum (two's complement little-endian uint64) and decodes back", () => {
    const values = [0, 1, -1, 0.5, -0.5, 1234.000001, -98765.4321, 2 ** 30, -(2 ** 30)];
    const ring = encodeRing64(values, 20);
    expect(Buffer.from(ringToBytes64(ring))).toEqual(Buffer.from(ringToBytes(encodeFixedPoint(values, 20))));
    const back = decodeRing64(ring, 20);
    values.forEach((v, i) => expect(back[i]).toBeCloseTo(v, 5));
    expect(fromBytesRing64(ringToBytes64(ring), values.length)).toEqual(ring);
  });

  test('adds and subtracts mod 2^64 exactly as BigInt does (random words, carries and borrows)', () => {
    const rng = new SeededRandom(7);
    for (let trial = 0; trial < 50; trial++) {
      const a = Uint32Array.from({ length: 64 }, () => rng.nextUint32());
      const b = Uint32Array.from({ length: 64 }, () => (trial % 5 === 0 ? 0xffffffff : rng.nextUint32()));
      const sum = a.slice();
      addRing64(sum, b);
      const diff = a.slice();
      subRing64(diff, b);
      const [ba, bb] = [toBig(a), toBig(b)];
      expect(toBig(sum)).toEqual(ba.map((x, i) => (x + bb[i]!) % M));
      expect(toBig(diff)).toEqual(ba.map((x, i) => (((x - bb[i]!) % M) + M) % M));
    }
  });

  test('a masked value comes back once its mask is removed, and masks are deterministic per key', () => {
    const key = new Uint8Array(32).fill(9);
    const x = encodeRing64([3.25, -7.5, 0], 20);
    const y = x.slice();
    addRing64(y, expandRing64(key, 3));
    expect(y).not.toEqual(x);
    subRing64(y, expandRing64(key, 3));
    expect(Array.from(decodeRing64(y, 20))).toEqual([3.25, -7.5, 0]);
  });

  test('the mask is the ChaCha20 keystream (RFC 8439) of its key read as little-endian uint64, from any byte offset', () => {
    // RFC 8439, A.1 test vector #1: the all-zero key, nonce and counter.
    expect(Buffer.from(ringToBytes64(expandRing64(new Uint8Array(32), 8))).toString('hex')).toBe(
      '76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7' +
        'da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586',
    );
    const key = new Uint8Array(32).map((_, i) => i * 7);
    const stream = createCipheriv('chacha20', key, Buffer.alloc(16)).update(Buffer.alloc(5 * 8));
    const words = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
    const want = Uint32Array.from({ length: 10 }, (_, i) => words.getUint32(4 * i, true));
    expect(expandRing64(key, 5)).toEqual(want);
    expect(expandRing64(key, 2)).toEqual(want.subarray(0, 4)); // a shorter mask after a longer one: same prefix
    // Long masks (read in place) and short ones (possibly copied out of a shared buffer) are the same keystream, and
    // each is a vector of its own: changing one changes no other.
    const long = expandRing64(key, 4096);
    expect(long.subarray(0, 10)).toEqual(want);
    const again = expandRing64(key, 4096);
    long.fill(0);
    expect(again.subarray(0, 10)).toEqual(want);
    expect(expandRing64(key, 1)).toEqual(want.subarray(0, 2));
    const odd = new Uint8Array(41);
    odd.set(stream, 1); // bytes at an unaligned offset
    expect(fromBytesRing64(odd.subarray(1), 5)).toEqual(want);
    expect(Buffer.from(ringToBytes64(want.subarray(2)))).toEqual(Buffer.from(stream.subarray(8)));
  });

  test('refuses non-finite and too large values, and mismatched lengths', () => {
    expect(() => encodeRing64([Number.NaN], 20)).toThrow(/cannot be encoded/);
    expect(() => encodeRing64([2 ** 40], 20)).toThrow(/cannot be encoded/);
    expect(() => addRing64(new Uint32Array(2), new Uint32Array(4))).toThrow(/different lengths/);
    expect(() => fromBytesRing64(new Uint8Array(7), 1)).toThrow(/Expected 1 ring elements/);
  });

  describe('Ring64Sum', () => {
    const word = fc
      .constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff)
      .chain((edge) => fc.oneof(fc.constant(edge), fc.integer({ min: 0, max: 0xffffffff })));
    const vector = (length: number) => fc.array(word, { minLength: 2 * length, maxLength: 2 * length });

    const backends = [['SIMD kernel', true] as const, ['float lanes', false] as const];

    test('runs on the SIMD kernel on this host (little-endian, WebAssembly SIMD), and on the float lanes when told', () => {
      expect(new Ring64Sum(3).simd).toBe(true);
      expect(new Ring64Sum(3, { simd: false }).simd).toBe(false);
    });

    test.each(backends)(
      '%s: folds to bit-identical words as adding and subtracting the vectors one by one (carries, borrows, wraps)',
      (_, simd) => {
        fc.assert(
          fc.property(
            fc
              .integer({ min: 1, max: 9 })
              .chain((length) =>
                fc.tuple(
                  vector(length),
                  fc.array(fc.tuple(fc.boolean(), vector(length)), { minLength: 0, maxLength: 40 }),
                ),
              ),
            ([start, terms]) => {
              const expected = Uint32Array.from(start);
              const sum = new Ring64Sum(start.length / 2, { simd });
              for (const [plus, words] of terms) {
                const x = Uint32Array.from(words);
                if (plus) {
                  addRing64(expected, x);
                  sum.add(x);
                } else {
                  subRing64(expected, x);
                  sum.sub(x);
                }
              }
              expect(sum.foldInto(Uint32Array.from(start))).toEqual(expected);
            },
          ),
          { numRuns: 500 },
        );
      },
    );

    test.each(backends)(
      '%s: a thousand all-ones masks subtracted, then folded twice: the sum starts again from zero after a fold',
      (_, simd) => {
        const ones = new Uint32Array(8).fill(0xffffffff);
        const sum = new Ring64Sum(4, { simd });
        for (let i = 0; i < 1000; i++) sum.sub(ones);
        const acc = sum.foldInto(new Uint32Array(8));
        expect(toBig(acc)).toEqual(Array<bigint>(4).fill(1000n)); // −1000 · (2^64 − 1) ≡ 1000
        expect(sum.foldInto(acc.slice())).toEqual(acc);
      },
    );

    test('refuses a vector of another length', () => {
      expect(() => new Ring64Sum(2).add(new Uint32Array(6))).toThrow(/different lengths/);
      expect(() => new Ring64Sum(2).foldInto(new Uint32Array(6))).toThrow(/different lengths/);
    });
  });
});
