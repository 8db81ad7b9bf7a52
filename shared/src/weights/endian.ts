/**
 * Float32 ↔ little-endian bytes. The wire format is little-endian. On little-endian hosts (every platform
 * Node ships for today) conversion is a view or one memcpy; on big-endian hosts it goes through a DataView.
 */

/** True when this host stores typed arrays little-endian. */
export const LITTLE_ENDIAN_HOST: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The little-endian bytes of `data`. On a little-endian host this is a view over `data` (no copy; do not
 * mutate it). `littleEndianHost` exists for tests of the big-endian path.
 */
export function float32ToLE(data: Float32Array, littleEndianHost: boolean = LITTLE_ENDIAN_HOST): Uint8Array {
  if (littleEndianHost) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  return out;
}

/**
 * A new `Float32Array` from little-endian bytes (`bytes.byteLength` must be a multiple of 4). On a
 * little-endian host: one aligned copy and a view over it, never per-element work.
 */
export function float32FromLE(bytes: Uint8Array, littleEndianHost: boolean = LITTLE_ENDIAN_HOST): Float32Array {
  const n = bytes.byteLength >>> 2;
  if (littleEndianHost) {
    const copy = new Uint8Array(n * 4);
    copy.set(bytes.subarray(0, n * 4));
    return new Float32Array(copy.buffer, 0, n);
  }
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, n * 4);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
