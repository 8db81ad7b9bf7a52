import fc from 'fast-check';
import { isTwinfedError } from '@twinfed/shared';
import { fedAvg } from './fedavg';
import type { ClientResult } from './types';
import { foldWeighted, type FoldKernel, type WeightedUpdate } from './weighted-fold';
import { simdFold } from './weighted-fold-simd';
import { WeightedMeanAccumulator } from './weighted-mean';
import { ctxOf } from './__tests__/fixtures';

/** The fold as it was before batching: one update after another, sum[i] += n·w[i]. The oracle. */
function oneByOne(size: number, results: readonly ClientResult[]): Float64Array {
  const sum = new Float64Array(size);
  for (const r of results) for (let i = 0; i < size; i++) sum[i]! += r.numExamples * r.weights[i]!;
  return sum;
}

/** Float32 weights spread over the whole exponent range (subnormals to 2¹²⁷, both signs), so rounding shows. */
function weightsOf(size: number, seed: number): Float32Array {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  return Float32Array.from({ length: size }, () => (next() - 0.5) * 2 ** Math.floor(next() * 270 - 140));
}

const bytes = (a: Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Splits `xs` into consecutive batches of the given sizes (the last takes the rest). */
function batches<T>(xs: readonly T[], sizes: readonly number[]): T[][] {
  const out: T[][] = [];
  let at = 0;
  for (const n of sizes) {
    if (at >= xs.length) break;
    out.push(xs.slice(at, at + n));
    at += n;
  }
  if (at < xs.length) out.push(xs.slice(at));
  return out;
}

const scenario = fc.record({
  // Across several blocks (4,096 elements in JS, 16,384 in SIMD), a ragged last one, odd and even lengths.
  size: fc.oneof(fc.integer({ min: 1, max: 9000 }), fc.integer({ min: 16_000, max: 34_000 })),
  updates: fc.array(fc.record({ n: fc.integer({ min: 1, max: 2 ** 29 }), seed: fc.integer() }), {
    minLength: 1,
    maxLength: 13,
  }),
  batchSizes: fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 13 }),
});

function resultsOf(s: { size: number; updates: ReadonlyArray<{ n: number; seed: number }> }): ClientResult[] {
  return s.updates.map((u, k) => ({
    siteId: `site-${String(k).padStart(2, '0')}`,
    numExamples: u.n,
    weights: weightsOf(s.size, u.seed),
  }));
}

/** The SIMD kernel, which Node 20 always has: a missing one fails the test rather than testing JS twice. */
function theSimdFold(): FoldKernel {
  if (simdFold === undefined) throw new Error('WebAssembly SIMD is unavailable');
  return simdFold;
}

/** The SIMD kernel on sums the accumulator keeps in ordinary Float64Arrays (each block copied in and out). */
const simdCopying: FoldKernel = (dst, src, updates) => theSimdFold()(dst, src, updates);

/** The SIMD kernel as the accumulator uses it by default: both sums in the kernel's own memory, folded in place. */
const simdInPlace: FoldKernel = Object.assign(
  (dst: Float64Array, src: Float64Array | null, updates: readonly WeightedUpdate[]) => {
    const own = theSimdFold();
    // Proves the in-place path is the one under test: the accumulator's sums are the kernel's, in one memory.
    // (The first fold has no src: it reads no sum.)
    if (src !== null) expect(dst.buffer).toBe(src.buffer);
    return own(dst, src, updates);
  },
  { sums: (length: number, owner: object) => theSimdFold().sums!(length, owner) },
);

test('the SIMD kernel keeps both sums in one memory of its own', () => {
  const owners = [{}, {}];
  const [a, b] = theSimdFold().sums!(20_001, owners[0]!);
  expect(a.buffer).toBe(b.buffer);
  expect([a.length, b.length]).toEqual([20_001, 20_001]);
  expect(a.byteOffset + a.byteLength).toBeLessThanOrEqual(b.byteOffset);
  const [c] = theSimdFold().sums!(20_001, owners[1]!);
  expect(c.buffer).not.toBe(a.buffer); // one per accumulator
});

test('a released accumulator hands its memory, not zeroed, to the next one, which reads as zeros until it folds', () => {
  const ctx = ctxOf(new Float32Array(5000));
  const [a, b] = resultsOf({ size: 5000, updates: [7, 9].map((n) => ({ n, seed: n })) });
  const first = new WeightedMeanAccumulator(ctx, theSimdFold());
  first.add(a!);
  first.add(b!); // both of its buffers now hold sums
  const memory = first.sum.buffer;
  first.release();
  first.release(); // idempotent
  expect(() => first.sum).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  expect(() => first.add({ ...a!, siteId: 'site-99' })).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  // One that folded nothing (its only update rejected) reads as zeros, not as the last round's sums.
  const second = new WeightedMeanAccumulator(ctx, theSimdFold());
  const poisoned = { ...a!, weights: Float32Array.from(a!.weights, (w, i) => (i === 4000 ? NaN : w)) };
  expect(() => second.add(poisoned)).toThrow(expect.objectContaining({ code: 'NON_FINITE_WEIGHTS' }));
  expect(second.sum.buffer).toBe(memory);
  expect(second.sum.every((x) => Object.is(x, 0))).toBe(true);
  second.release();
  // The next one folds straight over the old sums (its first fold reads none): the bits of its own updates only.
  const third = new WeightedMeanAccumulator(ctx, theSimdFold());
  third.add(b!);
  expect(third.sum.buffer).toBe(memory);
  expect(bytes(third.sum).equals(bytes(oneByOne(5000, [b!])))).toBe(true);
  third.add(a!);
  expect(bytes(third.sum).equals(bytes(oneByOne(5000, [b!, a!])))).toBe(true);
  third.release();
});

describe.each([
  ['the JS fold', foldWeighted],
  ['the WebAssembly SIMD fold, sums in its own memory', simdInPlace],
  ['the WebAssembly SIMD fold, sums copied in and out', simdCopying],
])('WeightedMeanAccumulator.addMany with %s', (_name, kernel) => {
  test('any split into batches gives the bits of folding one update after another', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const results = resultsOf(s);
        const acc = new WeightedMeanAccumulator(ctxOf(new Float32Array(s.size)), kernel);
        for (const b of batches(results, s.batchSizes)) acc.addMany(b);
        expect(bytes(acc.sum).equals(bytes(oneByOne(s.size, results)))).toBe(true);
        expect(acc.siteIds).toEqual(results.map((r) => r.siteId));
      }),
      { numRuns: 60 },
    );
  });

  test('a rejected update in a batch leaves exactly the updates before it folded, as one add after another would', () => {
    const poisons: Array<[string, (r: ClientResult) => ClientResult]> = [
      [
        'NON_FINITE_WEIGHTS',
        (r) => ({ ...r, weights: Float32Array.from(r.weights, (w, i) => (i === r.weights.length - 1 ? NaN : w)) }),
      ],
      [
        'NON_FINITE_WEIGHTS',
        (r) => ({ ...r, weights: Float32Array.from(r.weights, (w, i) => (i === 0 ? -Infinity : w)) }),
      ],
      ['INVALID_WEIGHTS', (r) => ({ ...r, weights: r.weights.subarray(1) })],
      ['EXAMPLES_OUT_OF_RANGE', (r) => ({ ...r, numExamples: 0 })],
      ['UPDATE_CONFLICT', (r) => ({ ...r, siteId: 'site-00' })],
    ];
    fc.assert(
      fc.property(scenario, fc.nat(), fc.integer({ min: 0, max: poisons.length - 1 }), (s, where, which) => {
        const results = resultsOf({ ...s, size: Math.max(2, s.size) });
        const size = results[0]!.weights.length;
        fc.pre(results.length >= 2);
        const bad = 1 + (where % (results.length - 1)); // never the first (UPDATE_CONFLICT needs site-00 folded)
        const [code, poison] = poisons[which]!;
        const offered = [...results.slice(0, bad), poison(results[bad]!), ...results.slice(bad + 1)];
        const stepwise = new WeightedMeanAccumulator(ctxOf(new Float32Array(size)), kernel);
        const batched = new WeightedMeanAccumulator(ctxOf(new Float32Array(size)), kernel);
        const codeOf = (fn: () => void): string | undefined => {
          try {
            fn();
          } catch (e) {
            return isTwinfedError(e) ? e.code : String(e);
          }
          return undefined;
        };
        const stepCode = codeOf(() => {
          for (const r of offered) stepwise.add(r);
        });
        const batchCode = codeOf(() => {
          for (const b of batches(offered, s.batchSizes)) batched.addMany(b);
        });
        expect(batchCode).toBe(stepCode);
        expect(stepCode).toBe(code);
        expect(batched.siteIds).toEqual(stepwise.siteIds);
        expect(batched.ledger.totalExamples).toBe(stepwise.ledger.totalExamples);
        expect(bytes(batched.sum).equals(bytes(stepwise.sum))).toBe(true);
        expect(bytes(batched.sum).equals(bytes(oneByOne(size, offered.slice(0, bad))))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  test('FedAvg over batches publishes the weights of FedAvg over single adds', () => {
    const s = fedAvg({ serverLr: 1 });
    const ctx = ctxOf(weightsOf(5000, 3));
    const results = resultsOf({ size: 5000, updates: [5, 9, 1, 700, 3, 12].map((n, k) => ({ n, seed: 11 + k })) });
    const single = s.createAccumulator(ctx);
    for (const r of results) single.add(r);
    const batched = s.createAccumulator(ctx);
    batched.addMany!(results);
    expect(Buffer.from(s.aggregate(ctx, batched, []).weights.buffer)).toEqual(
      Buffer.from(s.aggregate(ctx, single, []).weights.buffer),
    );
  });
});

describe.each([
  ['the JS fold', (): FoldKernel => foldWeighted, false],
  ['the WebAssembly SIMD fold, sums in its own memory', theSimdFold, true],
  ['the WebAssembly SIMD fold, sums copied in and out', theSimdFold, false],
])('%s from no sum (src null)', (_name, kernelOf, ownMemory) => {
  test('gives the bits of a fold from a zero-filled sum, whatever dst held, -0 weights included', () => {
    fc.assert(
      fc.property(scenario, fc.double(), (s, junk) => {
        const kernel = kernelOf();
        const updates = resultsOf(s).map((r, k) => {
          if (k === 0) r.weights.fill(-0, 0, Math.ceil(s.size / 2)); // 0 + n·(-0) is +0, not -0
          return { weights: r.weights, factor: r.numExamples };
        });
        const owner = {};
        const dst = ownMemory ? kernel.sums!(s.size, owner)[0] : new Float64Array(s.size);
        dst.fill(junk); // a pooled memory holds the last round's sums (or NaN)
        expect(kernel(dst, null, updates)).toBe(true);
        const expected = oneByOne(s.size, resultsOfUpdates(updates));
        expect(bytes(dst).equals(bytes(expected))).toBe(true);
        kernel.release?.(owner);
      }),
      { numRuns: 40 },
    );
  });
});

/** The updates back as results, for {@link oneByOne}. */
function resultsOfUpdates(updates: readonly WeightedUpdate[]): ClientResult[] {
  return updates.map((u, k) => ({ siteId: `site-${k}`, numExamples: u.factor, weights: u.weights }));
}

test('the first fold into an accumulator reads no sum, the later ones read the sum so far', () => {
  const seen: Array<Float64Array | null> = [];
  const spy: FoldKernel = (dst, src, updates) => {
    seen.push(src);
    return foldWeighted(dst, src, updates);
  };
  const results = resultsOf({ size: 100, updates: [1, 2, 3].map((n) => ({ n, seed: n })) });
  const acc = new WeightedMeanAccumulator(ctxOf(new Float32Array(100)), spy);
  acc.addMany([results[0]!]);
  acc.addMany([results[1]!, results[2]!]);
  expect(seen[0]).toBeNull();
  expect(seen[1]).toBeInstanceOf(Float64Array);
  expect(bytes(acc.sum).equals(bytes(oneByOne(100, results)))).toBe(true);
});
