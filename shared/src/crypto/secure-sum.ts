/**
 * A secure sum over a fixed cohort of sites: each site adds pairwise masks that cancel in the sum, so the
 * coordinator, which only adds the masked vectors, learns the cohort's total and nothing about any one site.
 * This is the masking layer of Bonawitz et al. (CCS 2017) without its dropout recovery: every member of the
 * cohort must contribute, or the sum never completes.
 *
 * Construction (version `twinfed/secure-sum/v1`):
 *   ring      = Z/2^64; a real x is encoded as round(x · 2^fractionBits) in two's complement
 *   shared_ij = X25519(box secret of i, box public of j)            (all-zero output rejected)
 *   key_ij    = HKDF-SHA256(ikm = shared_ij, salt = "twinfed/secure-sum/v1",
 *                           info = "twinfed/secure-sum/v1" ‖ context ‖ lo ‖ hi, 32 bytes)   lo < hi: the two site ids
 *   mask_ij   = AES-256-CTR(key_ij, iv = 0) keystream, read as little-endian uint64s
 *   masked_i  = encode(values_i) + Σ_{j > i} mask_ij − Σ_{j < i} mask_ij    (ids compared as strings)
 * Σ_i masked_i = Σ_i encode(values_i), because each mask_ij is added once (by the lower id) and subtracted once.
 * No wrap-around: each |encode(value)| stays below secureSumMaxEncoded(|cohort|) ≤ 2^63 / |cohort|, whatever the size.
 *
 * The masks are deterministic for (keys, context): re-sending a contribution gives the very same bytes, and one
 * context must never be used for two different value vectors (their difference would leak). Callers only see the
 * functions below; the primitives may change behind them.
 */
import { createCipheriv } from 'node:crypto';
import { TwinfedError } from '../errors';
import { hkdfSha256 } from './hkdf';
import { x25519 } from './primitives';

/** Default fixed-point precision of {@link maskContribution} (about 1e-6). */
export const SECURE_SUM_FRACTION_BITS = 20;

/** |x · 2^fractionBits| must stay below this in any cohort (and below {@link secureSumMaxEncoded} in a cohort). */
const MAX_ENCODED = 2 ** 56;

/**
 * The bound on |x · 2^fractionBits| of every value in a secure sum over `cohortSize` sites: the largest power of two
 * with cohortSize · bound ≤ 2^63 (and at most 2^56), so the ring sum of the whole cohort stays in (−2^63, 2^63) and
 * never wraps around: 2^56 up to 128 sites, 2^55 up to 256, … {@link maskContribution} refuses larger values.
 */
export function secureSumMaxEncoded(cohortSize: number): number {
  return Math.min(MAX_ENCODED, 2 ** (63 - Math.ceil(Math.log2(Math.max(1, cohortSize)))));
}
const LABEL = 'twinfed/secure-sum/v1';

/** A member of the cohort: its site id and X25519 public key (raw bytes). */
export interface SecureSumMember {
  readonly siteId: string;
  readonly boxPublicKey: Uint8Array;
}

/** Reals → ring elements (round(x · 2^fractionBits) mod 2^64). Throws `VALIDATION_FAILED` on non-finite or too large values. */
export function encodeFixedPoint(values: ArrayLike<number>, fractionBits = SECURE_SUM_FRACTION_BITS): BigUint64Array {
  const scale = 2 ** fractionBits;
  const out = new BigUint64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Math.round(values[i]! * scale);
    if (!Number.isFinite(v) || Math.abs(v) >= MAX_ENCODED)
      throw new TwinfedError(
        'VALIDATION_FAILED',
        `Value ${i} cannot be encoded in fixed point (|x| too large or not finite).`,
      );
    out[i] = BigInt(v); // BigUint64Array stores it mod 2^64 (two's complement for negatives)
  }
  return out;
}

/** Ring elements → reals (two's complement, divided by 2^fractionBits). */
export function decodeFixedPoint(ring: BigUint64Array, fractionBits = SECURE_SUM_FRACTION_BITS): Float64Array {
  const scale = 2 ** fractionBits;
  return Float64Array.from(ring, (u) => Number(BigInt.asIntN(64, u)) / scale);
}

/** Little-endian bytes of ring elements (8 per element). */
export function ringToBytes(ring: BigUint64Array): Uint8Array {
  const out = new Uint8Array(ring.length * 8);
  const view = new DataView(out.buffer);
  ring.forEach((u, i) => view.setBigUint64(i * 8, u, true));
  return out;
}

/** Ring elements of little-endian bytes; throws `VALIDATION_FAILED` unless there are exactly `length` of them. */
export function ringFromBytes(bytes: Uint8Array, length: number): BigUint64Array {
  if (bytes.byteLength !== length * 8)
    throw new TwinfedError(
      'VALIDATION_FAILED',
      `Expected ${length} ring elements (${length * 8} bytes), got ${bytes.byteLength} bytes.`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return BigUint64Array.from({ length }, (_, i) => view.getBigUint64(i * 8, true));
}

/** key_ij of the construction above: the same 32 bytes on both sides of the pair, bound to `context`. */
export function pairwiseKey(opts: {
  boxSecretKey: Uint8Array;
  siteId: string;
  peer: SecureSumMember;
  context: string;
}): Uint8Array {
  const shared = x25519(opts.boxSecretKey, opts.peer.boxPublicKey);
  if (shared === null)
    throw new TwinfedError('VALIDATION_FAILED', `The public key of cohort member ${opts.peer.siteId} is invalid.`);
  const [lo, hi] = opts.siteId < opts.peer.siteId ? [opts.siteId, opts.peer.siteId] : [opts.peer.siteId, opts.siteId];
  return hkdfSha256(shared, LABEL, `${LABEL}\n${opts.context}\n${lo}\n${hi}`, 32);
}

/** The pairwise mask between this site and `peer` for `context` (the same vector on both sides). */
function pairwiseMask(opts: {
  boxSecretKey: Uint8Array;
  siteId: string;
  peer: SecureSumMember;
  context: string;
  length: number;
}): BigUint64Array {
  const key = pairwiseKey(opts);
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const stream = cipher.update(Buffer.alloc(opts.length * 8));
  return ringFromBytes(new Uint8Array(stream.buffer, stream.byteOffset, stream.byteLength), opts.length);
}

/** Options of {@link maskContribution}. */
interface MaskContributionOptions {
  /** This site's values (e.g. per-feature counts, sums and sums of squares). */
  values: ArrayLike<number>;
  siteId: string;
  /** This site's X25519 secret key. */
  boxSecretKey: Uint8Array;
  /** Every member of the cohort, this site included (order does not matter). */
  cohort: readonly SecureSumMember[];
  /** Binds the masks to one use (e.g. the federation id and the purpose). */
  context: string;
  fractionBits?: number;
}

/**
 * This site's masked contribution: its fixed-point values plus the pairwise masks with every other cohort member,
 * as little-endian bytes. Throws `VALIDATION_FAILED` when the site is not in the cohort, a site id repeats, a
 * public key is invalid, or a value cannot be encoded.
 */
export function maskContribution(opts: MaskContributionOptions): Uint8Array {
  const ids = opts.cohort.map((m) => m.siteId);
  if (new Set(ids).size !== ids.length)
    throw new TwinfedError('VALIDATION_FAILED', 'A site appears twice in the cohort.');
  if (!ids.includes(opts.siteId))
    throw new TwinfedError('VALIDATION_FAILED', `Site ${opts.siteId} is not in the cohort.`);
  const out = encodeFixedPoint(opts.values, opts.fractionBits ?? SECURE_SUM_FRACTION_BITS);
  assertFitsCohort(out, opts.cohort.length);
  for (const peer of opts.cohort) {
    if (peer.siteId === opts.siteId) continue;
    const mask = pairwiseMask({
      boxSecretKey: opts.boxSecretKey,
      siteId: opts.siteId,
      peer,
      context: opts.context,
      length: out.length,
    });
    const sign = opts.siteId < peer.siteId ? 1n : -1n;
    for (let k = 0; k < out.length; k++) out[k] = out[k]! + sign * mask[k]!;
  }
  return ringToBytes(out);
}

/** Throws `SECURE_SUM_OVERFLOW` when an encoded value could make the sum over `cohortSize` sites wrap around. */
function assertFitsCohort(encoded: BigUint64Array, cohortSize: number): void {
  const bound = BigInt(secureSumMaxEncoded(cohortSize));
  encoded.forEach((u, i) => {
    const v = BigInt.asIntN(64, u);
    if (v >= bound || -v >= bound) {
      throw new TwinfedError(
        'SECURE_SUM_OVERFLOW',
        `Value ${i} is too large for a secure sum over ${cohortSize} sites (|x · 2^fractionBits| must stay below 2^${Math.log2(Number(bound))}): the total could wrap around.`,
      );
    }
  });
}

/** The ring sum of masked contributions of `length` elements each (what the coordinator computes). */
export function sumMaskedContributions(contributions: readonly Uint8Array[], length: number): Uint8Array {
  const acc = new BigUint64Array(length);
  for (const c of contributions) {
    const v = ringFromBytes(c, length);
    for (let k = 0; k < length; k++) acc[k] = acc[k]! + v[k]!;
  }
  return ringToBytes(acc);
}

/** Decodes the ring sum of a complete cohort back to reals. */
export function decodeSecureSum(sum: Uint8Array, opts: { length: number; fractionBits?: number }): Float64Array {
  return decodeFixedPoint(ringFromBytes(sum, opts.length), opts.fractionBits ?? SECURE_SUM_FRACTION_BITS);
}
