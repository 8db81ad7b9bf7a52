/**
 * HMAC-SHA256 (RFC 2104) under a key kept as its two padded blocks (K ⊕ ipad, K ⊕ opad): each MAC is then two one-shot
 * SHA-256 calls. `createHmac` imports its key and builds an object per call, ≈ 3–4× this for a short message; the
 * callers here MAC many short messages under few keys (secure aggregation's consistency MACs, site request MACs).
 * The very bytes of `createHmac('sha256', key)` (tested).
 */
import { hash } from 'node:crypto';

const BLOCK = 64;

/** A key of at most 64 bytes, as its padded blocks. */
export interface HmacPads {
  readonly inner: Buffer;
  readonly outer: Buffer;
}

/** The padded blocks of `key` (at most 64 bytes, as every key here is). */
export function hmacPads(key: Uint8Array): HmacPads {
  if (key.byteLength > BLOCK) throw new RangeError('hmacPads: keys longer than a block are not supported.');
  const inner = Buffer.alloc(BLOCK, 0x36);
  const outer = Buffer.alloc(BLOCK, 0x5c);
  for (let i = 0; i < key.byteLength; i++) {
    inner[i]! ^= key[i]!;
    outer[i]! ^= key[i]!;
  }
  return { inner, outer };
}

/** HMAC-SHA256 of the concatenation of `parts` under the key of `pads`. */
export function hmacSha256(pads: HmacPads, parts: readonly Uint8Array[]): Buffer {
  const inner = hash('sha256', Buffer.concat([pads.inner, ...parts]), 'buffer');
  return hash('sha256', Buffer.concat([pads.outer, inner]), 'buffer');
}
