/** Hashes, random bytes and constant-time comparison, all from node:crypto. */
import { createHash, randomBytes as nodeRandomBytes, timingSafeEqual } from 'node:crypto';
import { TwinfedError } from '../errors';

/** Bytes or text (hashed as UTF-8). */
type HashInput = Uint8Array | string;

/** SHA-256 of `data` (32 bytes). Strings are hashed as UTF-8. */
export function sha256(data: HashInput): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** SHA-256 of `data` as 64 lowercase hex characters. */
export function sha256Hex(data: HashInput): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 of the concatenation of `parts`, without materialising the concatenation. */
export function sha256Parts(parts: readonly HashInput[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** Cryptographically secure random bytes (`n` ≥ 0). */
export function randomBytes(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new TwinfedError('INTERNAL', 'randomBytes: n must be a non-negative integer.');
  const buf = nodeRandomBytes(n);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * Constant-time equality of two hex strings (e.g. stored token hashes). Returns false, never throws, when
 * either is not even-length hex or the lengths differ (the length itself is not secret).
 */
export function timingSafeEqualHex(a: string, b: string): boolean {
  if (typeof a !== 'string' || typeof b !== 'string' || a.length !== b.length) return false;
  if (!HEX_RE.test(a) || !HEX_RE.test(b)) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

/** Constant-time equality of two byte arrays; false when lengths differ. */
export function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}
