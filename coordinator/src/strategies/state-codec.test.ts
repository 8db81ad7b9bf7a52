import fc from 'fast-check';
import { decodeStateBytes, encodeStateBytes } from './state-codec';

describe('strategy state codec', () => {
  test('round-trips any float64 values bit for bit', () => {
    const vec = fc.array(fc.double(), { minLength: 3, maxLength: 3 });
    fc.assert(
      fc.property(vec, vec, (m, v) => {
        const state = { m: Float64Array.from(m), v: Float64Array.from(v) };
        const back = decodeStateBytes(encodeStateBytes(state), { expected: ['v', 'm'], size: 3 });
        return (
          Buffer.from(back.m!.buffer).equals(Buffer.from(state.m.buffer)) &&
          Buffer.from(back.v!.buffer).equals(Buffer.from(state.v.buffer))
        );
      }),
      { numRuns: 100 },
    );
  });

  test('gives the same bytes for the same state, whatever the key order', () => {
    const a = encodeStateBytes({ m: Float64Array.of(1, 2), v: Float64Array.of(3, 4) });
    const b = encodeStateBytes({ v: Float64Array.of(3, 4), m: Float64Array.of(1, 2) });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a.subarray(0, 4)).toString('latin1')).toBe('TFSS');
    expect(encodeStateBytes({})).toHaveLength(9);
  });

  test('rejects corrupt or mismatched bytes', () => {
    const good = encodeStateBytes({ m: Float64Array.of(1, 2) });
    const opts = { expected: ['m'], size: 2 };
    const bad =
      (bytes: Uint8Array, o = opts) =>
      () =>
        decodeStateBytes(bytes, o);
    const internal = expect.objectContaining({ code: 'INTERNAL' });
    expect(decodeStateBytes(good, opts).m).toEqual(Float64Array.of(1, 2));
    expect(bad(good.subarray(0, good.length - 1))).toThrow(internal);
    expect(bad(Uint8Array.from([...good, 0]))).toThrow(internal);
    const magic = good.slice();
    magic[0] = 0;
    expect(bad(magic)).toThrow(internal);
    const version = good.slice();
    version[4] = 2;
    expect(bad(version)).toThrow(internal);
    expect(bad(good, { expected: ['m', 'v'], size: 2 })).toThrow(internal);
    expect(bad(good, { expected: ['m'], size: 3 })).toThrow(internal);
    expect(bad(new Uint8Array(0))).toThrow(internal);
  });
});
