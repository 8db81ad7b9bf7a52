import { wasmApi } from '../wasm-api';
import { RING64_WASM_BASE64 } from './ring64-wasm';

/**
 * Ring64Sum's lanes on WebAssembly SIMD (ring64.wat): the running sum is a vector of uint64 in a memory of its own,
 * each term is copied next to it (a memcpy) and added with i64x2.add — exact mod 2^64, so no float lanes and no
 * carry pass. A SecAgg+ site adds k + 1 keystreams per round (k = 108 at 500 sites), the coordinator every upload of
 * U3: on this project's VMs the float lanes took ≈ 80 µs per 10,000-element term, these ≈ 12 µs with the copy.
 */

/** A running sum of ring vectors of one length (see Ring64Sum). */
export interface Ring64Lanes {
  add(x: Uint32Array): void;
  sub(x: Uint32Array): void;
  /** acc += the sum (mod 2^64), in place; the sum starts again from zero. */
  foldInto(acc: Uint32Array): void;
}

interface RingExports {
  add(dst: number, src: number, count: number): void;
  sub(dst: number, src: number, count: number): void;
}

const PAGE = 65_536;
/** The largest memory made for one sum (its lanes and the staged term): well inside every 64-bit engine's limit. */
const MAX_BYTES = 2 ** 31;
/** Wasm memory is little-endian; a Ring64's words are the uint64's bytes only on a little-endian host. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The compiled kernel, null where WebAssembly, its SIMD instructions or a little-endian host are missing. */
let compiled: object | null | undefined;

function kernelModule(): object | null {
  if (compiled !== undefined) return compiled;
  const bytes = Buffer.from(RING64_WASM_BASE64, 'base64');
  compiled = wasmApi !== undefined && LITTLE_ENDIAN && wasmApi.validate(bytes) ? new wasmApi.Module(bytes) : null;
  return compiled;
}

/** SIMD lanes for vectors of `length` ring elements, or undefined where the kernel cannot run or the vector is too large. */
export function simdRing64Lanes(length: number): Ring64Lanes | undefined {
  const mod = kernelModule();
  const bytes = 8 * length;
  if (!mod || wasmApi === undefined || 2 * bytes > MAX_BYTES) return undefined;
  // The sum at 0, the staged term after it (16-byte aligned: `bytes` is a multiple of 8, padded to 16).
  const stageAt = Math.ceil(bytes / 16) * 16;
  const memory = new wasmApi.Memory({ initial: Math.max(1, Math.ceil((stageAt + bytes) / PAGE)) });
  const wasm = new wasmApi.Instance(mod, { env: { memory } }).exports as RingExports;
  const sum = new Uint32Array(memory.buffer, 0, 2 * length);
  const stage = new Uint32Array(memory.buffer, stageAt, 2 * length);
  return {
    add(x) {
      stage.set(x);
      wasm.add(0, stageAt, length);
    },
    sub(x) {
      stage.set(x);
      wasm.sub(0, stageAt, length);
    },
    foldInto(acc) {
      stage.set(acc);
      wasm.add(stageAt, 0, length);
      acc.set(stage);
      sum.fill(0);
    },
  };
}
