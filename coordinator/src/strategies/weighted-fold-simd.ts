import { wasmApi } from '@twinfed/shared';
import { foldWeighted, type FoldKernel, type WeightedUpdate } from './weighted-fold';
import { FOLD_WASM_BASE64 } from './weighted-fold-wasm';

/**
 * The FedAvg-family fold on WebAssembly SIMD (weighted-fold.wat): {@link foldWeighted}'s blocked fold with the same
 * bits, two float64 lanes per instruction instead of one element per JS operation.
 *
 * WebAssembly reads only its own memory. The accumulator's two sums live in one (the kernel's `sums`: a memory per
 * accumulator holding both sums and a staging area, O(model) as before), so the kernel reads the old sum and writes
 * the new one in place; the updates, which arrive as ordinary Float32Arrays, are staged block by block four at a time
 * (memcpy into cache-resident space) and folded from there. Sums elsewhere (a caller's own Float64Arrays, or a model
 * too large for one 32-bit memory) go through one small process-wide memory: each block of the sum is copied in and
 * out around its updates, the same bits at the price of 16 more bytes of copying per parameter per batch.
 */

/**
 * Elements per block: 16,384 float64 (128 KiB of the sum) and four staged 64 KiB update blocks, 384 KiB in L2. The
 * kernel reads staged update j at the constant offset j · 65,536 bytes from the first: change both together.
 */
const BLOCK = 16_384;
/** Updates staged per kernel call. */
const LANES = 4;
/** Bytes of staging: LANES float32 blocks. */
const STAGE_BYTES = 4 * LANES * BLOCK;
/** Bytes of zeros after the staging area, never written: the `src` of a fold into an empty sum (`src_step` 0). */
const ZERO_BYTES = 64;
const PAGE = 65_536;
/** The largest memory made for an accumulator's sums (2 GiB: well inside what every 64-bit engine allows). */
const MAX_SUMS_BYTES = 2 ** 31;
/** Memories of collected accumulators kept for reuse. */
const POOL = 4;

/**
 * The kernel's functions: `w` is staging slot 0, the other updates follow it every 4·BLOCK bytes; `step` is 32 when
 * `src` is a sum, 0 when it is the zero area.
 */
interface FoldExports {
  fold1(dst: number, src: number, step: number, w: number, na: number, count: number): number;
  fold2(dst: number, src: number, step: number, w: number, na: number, nb: number, count: number): number;
  fold4(
    dst: number,
    src: number,
    step: number,
    w: number,
    na: number,
    nb: number,
    nc: number,
    nd: number,
    count: number,
  ): number;
}

/** A kernel instance and the staging area in its memory, followed by {@link ZERO_BYTES} of zeros. */
interface Bound {
  readonly wasm: FoldExports;
  readonly buffer: ArrayBuffer;
  readonly stageAt: number;
  readonly stage: Float32Array;
  readonly zeroAt: number;
}

/** The SIMD kernel, or undefined where WebAssembly or its SIMD instructions are unavailable. */
function simdKernel(): FoldKernel | undefined {
  const bytes = Buffer.from(FOLD_WASM_BASE64, 'base64');
  if (wasmApi === undefined || !wasmApi.validate(bytes)) return undefined;
  const wa = wasmApi;
  const mod = new wa.Module(bytes);
  /**
   * A fresh memory (zero-filled, pages mapped on first touch) of `size` bytes (rounded up to pages, at least
   * `stageAt` + staging + zeros) with the kernel bound to it, staging at `stageAt`.
   */
  const bind = (size: number, stageAt: number): Bound => {
    const memory = new wa.Memory({ initial: Math.ceil(Math.max(size, stageAt + STAGE_BYTES + ZERO_BYTES) / PAGE) });
    const wasm = new wa.Instance(mod, { env: { memory } }).exports as FoldExports;
    const stage = new Float32Array(memory.buffer, stageAt, LANES * BLOCK);
    return { wasm, buffer: memory.buffer, stageAt, stage, zeroAt: stageAt + STAGE_BYTES };
  };
  /** The process-wide memory for sums that live elsewhere: a block of the sum at 0, then the staging area. */
  const shared = bind(0, 8 * BLOCK);
  const sumBlock = new Float64Array(shared.buffer, 0, BLOCK);
  /** The accumulators' own memories: their sums' buffer → the kernel bound to it. */
  const resident = new WeakMap<ArrayBufferLike, Bound>();

  /** Copies weights[lo … lo + n) into staging slot j. */
  const put = (k: Bound, weights: Float32Array, lo: number, n: number, j: number): void => {
    k.stage.set(n === weights.length ? weights : weights.subarray(lo, lo + n), BLOCK * j);
  };

  const fold = (dst: Float64Array, src: Float64Array | null, updates: readonly WeightedUpdate[]): boolean => {
    const len = dst.length;
    const m = updates.length;
    if (m === 0) return foldWeighted(dst, src, updates); // a copy (or zeros)
    const own = resident.get(dst.buffer);
    const inPlace = own !== undefined && (src === null || src.buffer === dst.buffer);
    const k = inPlace ? own : shared;
    const w = k.stageAt;
    for (let lo = 0; lo < len; lo += BLOCK) {
      const n = Math.min(BLOCK, len - lo);
      // The first kernel call reads the block of the old sum (or the zero area, without advancing), every later one
      // what the previous call wrote.
      let from = src === null ? k.zeroAt : inPlace ? src.byteOffset + 8 * lo : 0;
      let step = src === null ? 0 : 32;
      const to = inPlace ? dst.byteOffset + 8 * lo : 0;
      if (!inPlace && src !== null) sumBlock.set(n === len ? src : src.subarray(lo, lo + n));
      let total = 0; // the sum of the block's values after the last kernel call (all of them are written by each)
      let j = 0;
      for (; j + LANES <= m; j += LANES) {
        const a = updates[j]!;
        const b = updates[j + 1]!;
        const c = updates[j + 2]!;
        const d = updates[j + 3]!;
        put(k, a.weights, lo, n, 0);
        put(k, b.weights, lo, n, 1);
        put(k, c.weights, lo, n, 2);
        put(k, d.weights, lo, n, 3);
        total = k.wasm.fold4(to, from, step, w, a.factor, b.factor, c.factor, d.factor, n);
        from = to;
        step = 32;
      }
      if (j + 2 <= m) {
        const a = updates[j]!;
        const b = updates[j + 1]!;
        put(k, a.weights, lo, n, 0);
        put(k, b.weights, lo, n, 1);
        total = k.wasm.fold2(to, from, step, w, a.factor, b.factor, n);
        from = to;
        step = 32;
        j += 2;
      }
      if (j < m) {
        put(k, updates[j]!.weights, lo, n, 0);
        total = k.wasm.fold1(to, from, step, w, updates[j]!.factor, n);
      }
      if (!inPlace) dst.set(n === BLOCK ? sumBlock : sumBlock.subarray(0, n), lo);
      // Finite exactly when every weight folded into the block was, as in foldWeighted (a sum that cannot overflow).
      if (!Number.isFinite(total)) return false;
    }
    return true;
  };

  /**
   * Memories whose accumulator was garbage-collected, for the next accumulator of the same size: a fresh memory's
   * pages are mapped on first touch (about 55 ms for a 1M-parameter model on the reference machine), a pooled one's
   * are mapped already. At most {@link POOL} are kept.
   */
  const free: Bound[] = [];
  const toPool = (k: Bound): void => {
    if (free.length >= POOL) free.shift();
    free.push(k);
  };
  const recycle = new FinalizationRegistry<Bound>(toPool);
  /** The memory each live owner holds. */
  const held = new WeakMap<object, Bound>();

  /**
   * Both sums and a staging area in a memory of their own. The sums' contents are unspecified (a pooled memory holds
   * the last accumulator's): the accumulator's first fold reads no sum (`src` null). A fresh memory is written once
   * now so that its pages are mapped here, not in the fold; a pooled one is handed over as it is.
   * The memory is pooled on `release(owner)` or once `owner` is garbage-collected: the views must not outlive either.
   */
  const sums = (length: number, owner: object): readonly [Float64Array, Float64Array] => {
    const sumBytes = Math.ceil((8 * length) / 64) * 64;
    const size = Math.ceil((2 * sumBytes + STAGE_BYTES + ZERO_BYTES) / PAGE) * PAGE;
    if (size > MAX_SUMS_BYTES) return [new Float64Array(length).fill(0), new Float64Array(length).fill(0)];
    const at = free.findIndex((f) => f.buffer.byteLength === size && f.stageAt === 2 * sumBytes);
    const k = at >= 0 ? free.splice(at, 1)[0]! : bind(size, 2 * sumBytes);
    if (at < 0) new Float64Array(k.buffer).fill(0); // maps every page (the zero area stays zero)
    resident.set(k.buffer, k);
    held.set(owner, k);
    recycle.register(owner, k, owner);
    return [new Float64Array(k.buffer, 0, length), new Float64Array(k.buffer, sumBytes, length)];
  };

  /** Pools the memory of `owner`'s sums now rather than when it is collected (nothing when it has none). */
  const release = (owner: object): void => {
    const k = held.get(owner);
    if (k === undefined) return;
    held.delete(owner);
    recycle.unregister(owner);
    toPool(k);
  };

  return Object.assign(fold, { sums, release });
}

/** The SIMD kernel alone (undefined without WebAssembly SIMD), compiled once per process. */
export const simdFold: FoldKernel | undefined = simdKernel();

/** The fold the FedAvg family uses: the SIMD kernel where it runs, else {@link foldWeighted}; the same bits either way. */
export const fastestFold: FoldKernel = simdFold ?? foldWeighted;
