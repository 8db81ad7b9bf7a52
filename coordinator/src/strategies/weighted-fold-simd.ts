import { createJsSumFold, type SumFold, type WeightedUpdate } from './weighted-fold';
import { FOLD_WASM_BASE64 } from './weighted-fold-wasm';

/**
 * The FedAvg-family fold on WebAssembly SIMD (weighted-fold.wat): the same blocked fold as weighted-fold.ts, with the
 * same bits, two float64 lanes per instruction instead of one element per JS operation.
 *
 * WebAssembly reads only its own memory, so the two float64 sum buffers live there for the accumulator's lifetime and
 * each update is copied in block by block (a memcpy into a cache-resident staging area) before the kernel folds four
 * updates at a time into the sum block. Memory: 2 × 8 bytes per parameter plus {@link STAGE_BYTES}, as the JS fold.
 */

/**
 * Elements per block: 16,384 float64 (128 KiB of the sum) and four 64 KiB staged update blocks stay in L2. The kernel
 * reads staged update j at the constant offset j · 65,536 bytes: change both together.
 */
const BLOCK = 16_384;
/** Updates staged per kernel call. */
const LANES = 4;
const STAGE_BYTES = LANES * BLOCK * 4;
const PAGE = 65_536;
/** Pointers are i32 offsets: keep the whole memory under 2 GiB so every offset is a non-negative i32. */
const MAX_BYTES = 2 ** 31;

/** The kernel's functions: `w` is staging slot 0, the other updates follow it every 4·BLOCK bytes. */
interface FoldExports {
  fold1(dst: number, src: number, w: number, na: number, count: number): number;
  fold4(dst: number, src: number, w: number, na: number, nb: number, nc: number, nd: number, count: number): number;
}

/** The part of the WebAssembly JS API used here (the lib and @types/node this repo builds with do not declare it). */
interface WasmModule {
  readonly __wasmModule?: never;
}
declare const WebAssembly:
  | {
      validate(bytes: Uint8Array): boolean;
      Module: new (bytes: Uint8Array) => WasmModule;
      Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
      Instance: new (mod: WasmModule, imports: object) => { readonly exports: unknown };
    }
  | undefined;

let compiled: WasmModule | null | undefined;

/** The kernel, compiled once; null where WebAssembly or its SIMD instructions are unavailable. */
function kernelModule(): WasmModule | null {
  if (compiled === undefined) {
    const bytes = Buffer.from(FOLD_WASM_BASE64, 'base64');
    compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return compiled;
}

/**
 * The sum of an accumulator in WebAssembly memory, folded by the SIMD kernel; undefined when the kernel cannot run here
 * (no WebAssembly SIMD, or a model too large for one 32-bit memory), where {@link createSumFold} falls back to JS.
 */
export function createSimdSumFold(length: number): SumFold | undefined {
  const mod = kernelModule();
  const bytes = 16 * length + STAGE_BYTES;
  if (mod === null || bytes > MAX_BYTES || WebAssembly === undefined) return undefined;
  const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE) });
  const kernel = new WebAssembly.Instance(mod, { env: { memory } }).exports as unknown as FoldExports;
  const views = [new Float64Array(memory.buffer, 0, length), new Float64Array(memory.buffer, 8 * length, length)];
  // Written once now, so every page is mapped when the accumulator is made rather than during the first fold.
  new Uint8Array(memory.buffer).fill(0);
  const staged = 16 * length;
  const stage = new Float32Array(memory.buffer, staged, LANES * BLOCK);
  let current = 0; // which view holds the sum; the other is written by a fold and swapped in when it is finite

  /** Copies weights[lo … lo + n) into staging slot j. */
  const put = (weights: Float32Array, lo: number, n: number, j: number): void => {
    stage.set(n === weights.length ? weights : weights.subarray(lo, lo + n), BLOCK * j);
  };

  return {
    get sum() {
      return views[current]!;
    },
    fold(updates: readonly WeightedUpdate[]): boolean {
      const m = updates.length;
      if (m === 0) return true;
      const src = 8 * length * current;
      const dst = 8 * length * (1 - current);
      for (let lo = 0; lo < length; lo += BLOCK) {
        const n = Math.min(BLOCK, length - lo);
        const to = dst + 8 * lo;
        let from = src + 8 * lo; // the first pass over a block reads the old sum, the later ones what the first wrote
        let total = 0;
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
          total = kernel.fold4(to, from, staged, a.factor, b.factor, c.factor, d.factor, n);
          from = to;
        }
        for (; k < m; k++) {
          put(updates[k]!.weights, lo, n, 0);
          total = kernel.fold1(to, from, staged, updates[k]!.factor, n);
          from = to;
        }
        // `total` sums the block's final values: finite exactly when every weight folded into it was (see weighted-fold.ts).
        if (!Number.isFinite(total)) return false;
      }
      current = 1 - current;
      return true;
    },
  };
}

/** The SIMD fold where it runs, else the JS one: the same bits either way. */
export function createSumFold(length: number): SumFold {
  return createSimdSumFold(length) ?? createJsSumFold(length);
}
