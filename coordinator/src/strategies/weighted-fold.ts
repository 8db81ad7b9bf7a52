/**
 * The inner loop of the FedAvg family, sum[i] + n₁·w₁[i] + n₂·w₂[i] + … for a batch of updates, written to a second
 * buffer so that the running sum is untouched until the whole batch is known to be finite.
 *
 * Bit-for-bit the same as folding the updates one at a time in the same order: each element still receives
 * ((sum[i] + n₁·w₁[i]) + n₂·w₂[i]) + …, every product exact in float64 (nₖ ≤ 2²⁹, wₖ[i] a float32) and every addition
 * rounded once, in the batch order. Only the order in which *elements* are visited changes, and no element's value
 * depends on that:
 * - blocked: the sum is walked in blocks of {@link BLOCK} elements (32 KiB of float64, an L1 data cache) and every
 *   update of the batch is folded into a block before the next block is touched, so the sum crosses main memory once
 *   per batch instead of once per update;
 * - several updates per pass: inside a block four updates are folded per loop (the partial sum stays in a register
 *   between them), then two, then one for the rest;
 * - finiteness is checked on the folded block, not on each update: a float64 sum of products nₖ·wₖ[i] cannot overflow
 *   (|nₖ·wₖ[i]| < 2²⁹·2¹²⁸ and Σnₖ < 2⁵³), so a block is finite exactly when every weight folded into it was.
 */

/** One update to fold: its weights and the factor they are multiplied by (the example count). */
export interface WeightedUpdate {
  readonly weights: Float32Array;
  readonly factor: number;
}

/**
 * A fold kernel: {@link foldWeighted} here or the WebAssembly SIMD one (weighted-fold-simd.ts), which give the same
 * bits and the same answer. `src` null stands for a sum of zeros that is never read (the first fold into an
 * accumulator). A kernel may also say where an accumulator's two sum buffers are best kept (`sums`: `length` elements
 * each, their contents unspecified until folded into, valid until `release(owner)` or until `owner` is
 * garbage-collected); the fold takes any Float64Arrays, those only faster.
 */
export type FoldKernel = ((
  dst: Float64Array,
  src: Float64Array | null,
  updates: readonly WeightedUpdate[],
) => boolean) & {
  readonly sums?: (length: number, owner: object) => readonly [Float64Array, Float64Array];
  readonly release?: (owner: object) => void;
};

/** Elements per block: 4,096 float64 = 32 KiB of the sum, kept in L1 while the batch is folded into it. */
const BLOCK = 4096;

/**
 * dst[i] = src[i] + factor₁·weights₁[i] + factor₂·weights₂[i] + … (left to right) for every i, with src[i] = 0 when
 * `src` is null. Returns false, with `dst` partly written, as soon as a block holds NaN or ±Infinity (a non-finite
 * weight or a non-finite `src`); `src` is never written. Every `weights` must have `dst.length` elements (the
 * accumulator checks this first).
 */
export function foldWeighted(dst: Float64Array, src: Float64Array | null, updates: readonly WeightedUpdate[]): boolean {
  const len = dst.length;
  const m = updates.length;
  for (let lo = 0; lo < len; lo += BLOCK) {
    const hi = Math.min(len, lo + BLOCK);
    // The first pass over a block reads the old sum, the later ones what the first wrote. No old sum: the block of
    // dst is zeroed first (it stays in L1 for the pass that reads it), the sum itself is not read.
    let from = src ?? dst.fill(0, lo, hi);
    let k = 0;
    for (; k + 4 <= m; k += 4) {
      const a = updates[k]!;
      const b = updates[k + 1]!;
      const c = updates[k + 2]!;
      const d = updates[k + 3]!;
      fold4(dst, from, a.weights, b.weights, c.weights, d.weights, a.factor, b.factor, c.factor, d.factor, lo, hi);
      from = dst;
    }
    if (k + 2 <= m) {
      const a = updates[k]!;
      const b = updates[k + 1]!;
      fold2(dst, from, a.weights, b.weights, a.factor, b.factor, lo, hi);
      from = dst;
      k += 2;
    }
    if (k < m) fold1(dst, from, updates[k]!.weights, updates[k]!.factor, lo, hi);
    else if (m === 0 && src !== null) dst.set(src.subarray(lo, hi), lo);
    if (!blockFinite(dst, lo, hi)) return false;
  }
  return true;
}

function fold4(
  dst: Float64Array,
  src: Float64Array,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  d: Float32Array,
  na: number,
  nb: number,
  nc: number,
  nd: number,
  lo: number,
  hi: number,
): void {
  for (let i = lo; i < hi; i++) {
    let s = src[i]!;
    s += na * a[i]!;
    s += nb * b[i]!;
    s += nc * c[i]!;
    s += nd * d[i]!;
    dst[i] = s;
  }
}

function fold2(
  dst: Float64Array,
  src: Float64Array,
  a: Float32Array,
  b: Float32Array,
  na: number,
  nb: number,
  lo: number,
  hi: number,
): void {
  for (let i = lo; i < hi; i++) {
    let s = src[i]!;
    s += na * a[i]!;
    s += nb * b[i]!;
    dst[i] = s;
  }
}

function fold1(dst: Float64Array, src: Float64Array, a: Float32Array, na: number, lo: number, hi: number): void {
  for (let i = lo; i < hi; i++) dst[i] = src[i]! + na * a[i]!;
}

/** True when dst[lo … hi) holds no NaN or ±Infinity: their sum is finite (it cannot overflow, see above). */
function blockFinite(dst: Float64Array, lo: number, hi: number): boolean {
  let s0 = 0;
  let s1 = 0;
  let i = lo;
  for (; i + 1 < hi; i += 2) {
    s0 += dst[i]!;
    s1 += dst[i + 1]!;
  }
  if (i < hi) s0 += dst[i]!;
  return Number.isFinite(s0 + s1);
}
