import { foldWeighted, type FoldKernel, type WeightedUpdate } from './weighted-fold';
import { FOLD_WASM_BASE64 } from './weighted-fold-wasm';

/**
 * The FedAvg-family fold on WebAssembly SIMD (weighted-fold.wat): {@link foldWeighted}'s blocked fold with the same
 * bits, two float64 lanes per instruction instead of one element per JS operation.
 *
 * WebAssembly reads only its own memory, so each block goes through one small process-wide memory: the block of the
 * sum is copied in, the updates' blocks are staged next to it four at a time (memcpy into cache-resident space), the
 * kernel folds them in place, and the block is copied out to `dst`. The sum itself stays in the accumulator's
 * Float64Arrays (O(model) memory, as with the JS kernel); the copies are cache-to-cache except for the one read of
 * each update and of the old sum, and the one write of the new sum, which every fold does.
 */

/**
 * Elements per block: 16,384 float64 (128 KiB of the sum) and four staged 64 KiB update blocks, 384 KiB in L2. The
 * kernel reads staged update j at the constant offset j · 65,536 bytes from the first: change both together.
 */
const BLOCK = 16_384;
/** Updates staged per kernel call. */
const LANES = 4;
/** Memory layout: the sum block at 0, then the staged updates. */
const SUM_AT = 0;
const STAGE_AT = 8 * BLOCK;
const PAGES = Math.ceil((STAGE_AT + 4 * LANES * BLOCK) / 65_536);

/** The kernel's functions: `w` is staging slot 0, the other updates follow it every 4·BLOCK bytes. */
interface FoldExports {
  fold1(dst: number, src: number, w: number, na: number, count: number): number;
  fold2(dst: number, src: number, w: number, na: number, nb: number, count: number): number;
  fold4(dst: number, src: number, w: number, na: number, nb: number, nc: number, nd: number, count: number): number;
}

/** The part of the WebAssembly JS API used here (the lib and @types/node this repo builds with do not declare it). */
declare const WebAssembly:
  | {
      validate(bytes: Uint8Array): boolean;
      Module: new (bytes: Uint8Array) => object;
      Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
      Instance: new (mod: object, imports: object) => { readonly exports: unknown };
    }
  | undefined;

/** The SIMD kernel, or undefined where WebAssembly or its SIMD instructions are unavailable. */
function simdKernel(): FoldKernel | undefined {
  const bytes = Buffer.from(FOLD_WASM_BASE64, 'base64');
  if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(bytes)) return undefined;
  const memory = new WebAssembly.Memory({ initial: PAGES });
  const wasm = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as FoldExports;
  const sum = new Float64Array(memory.buffer, SUM_AT, BLOCK);
  const stage = new Float32Array(memory.buffer, STAGE_AT, LANES * BLOCK);
  /** Copies weights[lo … lo + n) into staging slot j. */
  const put = (weights: Float32Array, lo: number, n: number, j: number): void => {
    stage.set(n === weights.length ? weights : weights.subarray(lo, lo + n), BLOCK * j);
  };

  return (dst: Float64Array, src: Float64Array, updates: readonly WeightedUpdate[]): boolean => {
    const len = src.length;
    const m = updates.length;
    if (m === 0) return foldWeighted(dst, src, updates); // a copy
    for (let lo = 0; lo < len; lo += BLOCK) {
      const n = Math.min(BLOCK, len - lo);
      sum.set(n === len ? src : src.subarray(lo, lo + n));
      let total = 0; // the sum of the block's values after the last kernel call (all of them are written by each)
      let k = 0;
      for (; k + LANES <= m; k += LANES) {
        const a = updates[k]!;
        const b = updates[k + 1]!;
        const c = updates[k + 2]!;
        const d = updates[k + 3]!;
        put(a.weights, lo, n, 0);
        put(b.weights, lo, n, 1);
        put(c.weights, lo, n, 2);
        put(d.weights, lo, n, 3);
        total = wasm.fold4(SUM_AT, SUM_AT, STAGE_AT, a.factor, b.factor, c.factor, d.factor, n);
      }
      if (k + 2 <= m) {
        const a = updates[k]!;
        const b = updates[k + 1]!;
        put(a.weights, lo, n, 0);
        put(b.weights, lo, n, 1);
        total = wasm.fold2(SUM_AT, SUM_AT, STAGE_AT, a.factor, b.factor, n);
        k += 2;
      }
      if (k < m) {
        put(updates[k]!.weights, lo, n, 0);
        total = wasm.fold1(SUM_AT, SUM_AT, STAGE_AT, updates[k]!.factor, n);
      }
      dst.set(n === BLOCK ? sum : sum.subarray(0, n), lo);
      // Finite exactly when every weight folded into the block was, as in foldWeighted (a sum that cannot overflow).
      if (!Number.isFinite(total)) return false;
    }
    return true;
  };
}

/** The SIMD kernel alone (undefined without WebAssembly SIMD), compiled once per process. */
export const simdFold: FoldKernel | undefined = simdKernel();

/** The fold the FedAvg family uses: the SIMD kernel where it runs, else {@link foldWeighted}; the same bits either way. */
export const fastestFold: FoldKernel = simdFold ?? foldWeighted;
