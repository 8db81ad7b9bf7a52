/**
 * HKDF-SHA256 (RFC 5869) on node's HMAC: the very bytes of `hkdfSync('sha256', ikm, salt, info, length)`, at about
 * half its cost per call for the short keys secure aggregation derives. `hkdfSync` imports `ikm` as a fresh
 * KeyObject and runs a crypto job for every call (≈ 48 µs on this project's VMs under load); a site derives one key
 * per share box it seals or opens and per pairwise mask — ≈ 3 (k + 1) per round, k = 108 at 500 secure sites.
 */
import { createHmac } from 'node:crypto';
import { TwinfedError } from '../errors';

const HASH_BYTES = 32;
const MAX_LENGTH = 255 * HASH_BYTES;

/** HKDF-SHA256 of `ikm` with `salt` and `info` (strings are taken as UTF-8), `length` bytes (at most 8160). */
export function hkdfSha256(
  ikm: Uint8Array,
  salt: Uint8Array | string,
  info: Uint8Array | string,
  length: number,
): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > MAX_LENGTH)
    throw new TwinfedError('INTERNAL', `HKDF-SHA256 gives 0 to ${MAX_LENGTH} bytes, not ${length}.`);
  // Extract: PRK = HMAC(salt, ikm) (an empty salt is HMAC's all-zero key, as RFC 5869 asks).
  const prk = createHmac('sha256', salt).update(ikm).digest();
  // Expand: T(i) = HMAC(PRK, T(i − 1) ‖ info ‖ i).
  const out = new Uint8Array(Math.ceil(length / HASH_BYTES) * HASH_BYTES);
  let previous: Uint8Array | undefined;
  for (let i = 1; (i - 1) * HASH_BYTES < length; i++) {
    const h = createHmac('sha256', prk);
    if (previous) h.update(previous);
    previous = h.update(info).update(Uint8Array.of(i)).digest();
    out.set(previous, (i - 1) * HASH_BYTES);
  }
  return out.byteLength === length ? out : out.slice(0, length);
}
