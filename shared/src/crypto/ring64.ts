/**
 * Vectors over the ring Z/2^64 as pairs of 32-bit words (little-endian: low word first), for masking model
 * updates. BigInt would be simpler but ~50× slower on million-weight vectors; these loops are plain integer
 * arithmetic. The byte form is little-endian uint64, the same as the secure sum's (`ringToBytes`).
 */
import { createCipheriv } from 'node:crypto';
import { TwinfedError } from '../errors';
import { simdRing64Lanes, type Ring64Lanes } from './ring64-simd';

const TWO32 = 4294967296;
/** On a little-endian host a ring vector's words are its byte form as they lie in memory: copied, not converted. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Zeros for the keystream of {@link expandRing64} (ChaCha20 of zeros), kept at the largest size asked (never written). */
let zeros = Buffer.alloc(0);
/** |x · 2^fractionBits| must stay below this (2^53: exact in a double; sums of ≤ 2^10 vectors cannot wrap). */
const MAX_ABS = 2 ** 53;

/** A ring vector: `2 · length` 32-bit words. */
export type Ring64 = Uint32Array;

/** Reals → ring (round(x · 2^fractionBits), two's complement). Throws `VALIDATION_FAILED` on non-finite or too large values. */
export function encodeRing64(values: ArrayLike<number>, fractionBits: number): Ring64 {
  const scale = 2 ** fractionBits;
  const out = new Uint32Array(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    const v = Math.round(values[i]! * scale);
    if (!Number.isFinite(v) || Math.abs(v) >= MAX_ABS)
      throw new TwinfedError(
        'VALIDATION_FAILED',
        `Value ${i} cannot be encoded in fixed point (|x| too large or not finite).`,
      );
    const hi = Math.floor(v / TWO32); // negative v: floor keeps two's complement (hi = -1 … ) once taken mod 2^32
    out[2 * i] = v - hi * TWO32;
    out[2 * i + 1] = hi >>> 0;
  }
  return out;
}

/** Ring → reals (two's complement, divided by 2^fractionBits). Exact while |value| < 2^53. */
export function decodeRing64(ring: Ring64, fractionBits: number): Float64Array {
  const scale = 2 ** fractionBits;
  const out = new Float64Array(ring.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = ring[2 * i + 1]! | 0; // signed high word
    out[i] = (hi * TWO32 + ring[2 * i]!) / scale;
  }
  return out;
}

/** acc += x (mod 2^64), in place. */
export function addRing64(acc: Ring64, x: Ring64): void {
  if (acc.length !== x.length) throw new TwinfedError('VALIDATION_FAILED', 'Ring vectors of different lengths.');
  for (let i = 0; i < acc.length; i += 2) {
    const lo = acc[i]! + x[i]!;
    acc[i] = lo; // stored mod 2^32
    acc[i + 1] = acc[i + 1]! + x[i + 1]! + (lo >= TWO32 ? 1 : 0);
  }
}

/** acc −= x (mod 2^64), in place. */
export function subRing64(acc: Ring64, x: Ring64): void {
  if (acc.length !== x.length) throw new TwinfedError('VALIDATION_FAILED', 'Ring vectors of different lengths.');
  for (let i = 0; i < acc.length; i += 2) {
    const lo = acc[i]! - x[i]!;
    acc[i] = lo; // stored mod 2^32
    acc[i + 1] = acc[i + 1]! - x[i + 1]! - (lo < 0 ? 1 : 0);
  }
}

/**
 * Many ring vectors summed at once (masks, masked uploads), reduced into a ring vector by {@link foldInto}; the result
 * is bit-identical to adding and subtracting the vectors one by one with {@link addRing64} / {@link subRing64}, in a
 * fraction of the time. Where WebAssembly SIMD runs (ring64-simd), the sum is a uint64 vector added to two elements
 * per instruction; elsewhere ({@link floatRing64Lanes}) each 32-bit word is added to a float64 lane with no carry
 * between words, and the lanes are reduced mod 2^64 once by the fold.
 */
export class Ring64Sum {
  /** Terms the sum takes between folds (the float lanes' bound: 2^20 words of < 2^32 each stay below 2^52). */
  static readonly MAX_TERMS = 2 ** 20;
  private readonly lanes: Ring64Lanes;
  private terms = 0;
  /** True when this sum runs on the SIMD kernel. */
  readonly simd: boolean;

  /** `simd: false` takes the float lanes even where the SIMD kernel runs (tests compare the two). */
  constructor(
    readonly length: number,
    opts: { simd?: boolean } = {},
  ) {
    const simd = opts.simd === false ? undefined : simdRing64Lanes(length);
    this.simd = simd !== undefined;
    this.lanes = simd ?? floatRing64Lanes(length);
  }

  /** += x (x: a ring vector of `length` elements). */
  add(x: Ring64): void {
    this.check(x);
    this.lanes.add(x);
  }

  /** −= x. */
  sub(x: Ring64): void {
    this.check(x);
    this.lanes.sub(x);
  }

  /** acc += the sum so far (mod 2^64), in place; the sum starts again from zero. Returns `acc`. */
  foldInto(acc: Ring64): Ring64 {
    if (acc.length !== 2 * this.length)
      throw new TwinfedError('VALIDATION_FAILED', 'Ring vectors of different lengths.');
    this.lanes.foldInto(acc);
    this.terms = 0;
    return acc;
  }

  private check(x: Ring64): void {
    if (x.length !== 2 * this.length) throw new TwinfedError('VALIDATION_FAILED', 'Ring vectors of different lengths.');
    if (++this.terms > Ring64Sum.MAX_TERMS)
      throw new TwinfedError('INTERNAL', `A Ring64Sum takes at most ${Ring64Sum.MAX_TERMS} vectors between folds.`);
  }
}

/**
 * The portable lanes of {@link Ring64Sum}: each 32-bit word goes to a float64 lane. Exact: every lane stays below
 * 2^32 · {@link Ring64Sum.MAX_TERMS} < 2^53 in magnitude, and the fold carries each low lane's overflow
 * (floor(lo / 2^32), negative too) into its high word.
 */
function floatRing64Lanes(length: number): Ring64Lanes {
  const l = new Float64Array(2 * length);
  return {
    add(x) {
      for (let i = 0; i < l.length; i++) l[i] = l[i]! + x[i]!;
    },
    sub(x) {
      for (let i = 0; i < l.length; i++) l[i] = l[i]! - x[i]!;
    },
    foldInto(acc) {
      for (let i = 0; i < l.length; i += 2) {
        const lo = acc[i]! + l[i]!;
        const carry = Math.floor(lo / TWO32);
        acc[i] = lo - carry * TWO32;
        acc[i + 1] = acc[i + 1]! + l[i + 1]! + carry; // |·| < 2^53: exact, stored mod 2^32
      }
      l.fill(0);
    },
  };
}

/**
 * A pseudorandom ring vector of `length` elements: the ChaCha20 keystream (RFC 8439) of `key` (32 bytes) with nonce 0
 * and block counter 0, read as little-endian uint64. ChaCha20, not AES-256-CTR (secagg v2): on this project's VMs
 * OpenSSL's AES-CTR ran at 80–140 MB/s against ~960 MB/s for ChaCha20, and a site at 500 secure sites expands
 * k = 108 masks per round (docs/decisions.md, 2026-12-07). The key is used for this one keystream only.
 */
export function expandRing64(key: Uint8Array, length: number): Ring64 {
  if (key.byteLength !== 32) throw new TwinfedError('INTERNAL', 'A ring mask key is 32 bytes.');
  // OpenSSL's 16-byte ChaCha20 IV: the 32-bit little-endian block counter, then the 96-bit nonce.
  const cipher = createCipheriv('chacha20', key, Buffer.alloc(16));
  if (zeros.byteLength < length * 8) zeros = Buffer.alloc(length * 8);
  const stream = cipher.update(zeros.subarray(0, length * 8));
  // The keystream's own memory, when it is a buffer of its own (not a slice of Node's shared pool): read in place on
  // a little-endian host instead of copied (a site expands k masks a round; each copy was another 8 bytes a weight).
  if (
    LITTLE_ENDIAN &&
    stream.byteLength === length * 8 &&
    stream.byteOffset === 0 &&
    stream.buffer.byteLength === stream.byteLength
  )
    return new Uint32Array(stream.buffer, 0, length * 2);
  return fromBytesRing64(new Uint8Array(stream.buffer, stream.byteOffset, stream.byteLength), length);
}

/** Little-endian uint64 bytes of a ring vector. */
export function ringToBytes64(ring: Ring64): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(ring.buffer.slice(ring.byteOffset, ring.byteOffset + ring.byteLength));
  const out = new Uint8Array(ring.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < ring.length; i++) view.setUint32(i * 4, ring[i]!, true);
  return out;
}

/** A ring vector of `length` elements from little-endian uint64 bytes; `VALIDATION_FAILED` on a wrong size. */
export function fromBytesRing64(bytes: Uint8Array, length: number): Ring64 {
  if (bytes.byteLength !== length * 8)
    throw new TwinfedError(
      'VALIDATION_FAILED',
      `Expected ${length} ring elements (${length * 8} bytes), got ${bytes.byteLength} bytes.`,
    );
  const out = new Uint32Array(length * 2);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}
