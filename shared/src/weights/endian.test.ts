import fc from 'fast-check';
import { LITTLE_ENDIAN_HOST, float32FromLE, float32ToLE } from './endian';

describe('little-endian float32 conversion', () => {
  test('detects the host byte order', () => {
    expect(LITTLE_ENDIAN_HOST).toBe(new Uint8Array(new Uint32Array([0x01020304]).buffer)[0] === 0x04);
  });

  test('fast (LE host) and DataView (BE host) paths produce identical bytes and values', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ noNaN: true }), { maxLength: 50 }), (xs) => {
        const data = Float32Array.from(xs);
        const fast = float32ToLE(data, true);
        const slow = float32ToLE(data, false);
        expect(slow).toEqual(new Uint8Array(fast));
        const view = new DataView(slow.buffer, slow.byteOffset);
        xs.forEach((x, i) => expect(view.getFloat32(i * 4, true)).toBe(Math.fround(x)));
        expect(float32FromLE(slow, true)).toEqual(data);
        expect(float32FromLE(slow, false)).toEqual(data);
      }),
    );
  });

  test('reads from odd byte offsets and copies', () => {
    const src = new Uint8Array(9);
    new DataView(src.buffer).setFloat32(1, 1.5, true);
    new DataView(src.buffer).setFloat32(5, -2, true);
    for (const le of [true, false]) {
      const out = float32FromLE(src.subarray(1), le);
      expect(Array.from(out)).toEqual([1.5, -2]);
      expect(out.byteOffset).toBe(0);
      expect(out.buffer).not.toBe(src.buffer);
    }
  });
});
