import fc from 'fast-check';
import { sha256Hex } from '../crypto/hash';
import { utf8 } from '../crypto/encoding';
import { isTwinfedError } from '../errors';
import {
  assertFinite,
  deserializeOwnedWeights,
  deserializeWeights,
  serializeWeights,
  serializeWeightsParts,
  weightsDigest,
} from './serialize';
import { concatBytes } from '../crypto/encoding';
import { layoutSize, type Layout, type WeightSet } from './types';
import { codeOf } from '../__tests__/code-of';

const layout: Layout = [
  { name: 'dense/kernel', shape: [3, 2], dtype: 'float32' },
  { name: 'dense/bias', shape: [2], dtype: 'float32' },
];
const ws: WeightSet = { layout, data: Float32Array.from([0.5, -1, 2.25, 0, -0, 1e-30, 3, -4]) };

const finiteF32 = fc.float({ noNaN: true, noDefaultInfinity: true });
const layoutArb = fc
  .uniqueArray(
    fc.record({
      name: fc.string({ minLength: 1, maxLength: 12 }),
      shape: fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }),
    }),
    {
      minLength: 1,
      maxLength: 4,
      selector: (t) => t.name,
    },
  )
  .map((ts): Layout => ts.map((t) => ({ ...t, dtype: 'float32' as const })));
const weightSetArb = layoutArb.chain((l) =>
  fc
    .array(finiteF32, { minLength: layoutSize(l), maxLength: layoutSize(l) })
    .map((xs): WeightSet => ({ layout: l, data: Float32Array.from(xs) })),
);

describe('serializeWeights / deserializeWeights', () => {
  test('has the documented framing', () => {
    const bytes = serializeWeights(ws);
    expect(Buffer.from(bytes.subarray(0, 4)).toString()).toBe('TWFW');
    expect(bytes[4]).toBe(1);
    const h = new DataView(bytes.buffer, bytes.byteOffset).getUint32(5, true);
    const header = JSON.parse(Buffer.from(bytes.subarray(9, 9 + h)).toString()) as { layout: Layout };
    expect(header.layout).toEqual(layout);
    const dataOffset = (9 + h + 3) & ~3;
    expect(bytes.length).toBe(dataOffset + 8 * 4);
    const view = new DataView(bytes.buffer, bytes.byteOffset + dataOffset);
    expect(view.getFloat32(0, true)).toBe(0.5);
    expect(view.getFloat32(4, true)).toBe(-1);
  });

  test('round-trips bit-exactly (property)', () => {
    fc.assert(
      fc.property(weightSetArb, (w) => {
        const bytes = serializeWeights(w);
        const back = deserializeWeights(bytes, { expectedLayout: w.layout });
        expect(back.layout).toEqual(w.layout);
        expect(new Uint8Array(back.data.buffer)).toEqual(
          new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength),
        );
        expect(weightsDigest(back)).toBe(weightsDigest(w));
        expect(weightsDigest(w)).toBe(sha256Hex(bytes));
      }),
      { numRuns: 100 },
    );
  });

  test('reads from an unaligned, offset buffer and returns its own memory', () => {
    const bytes = serializeWeights(ws);
    const host = new Uint8Array(bytes.length + 3);
    host.set(bytes, 3);
    const view = Buffer.from(host.buffer, 3, bytes.length);
    const back = deserializeWeights(view);
    expect(Array.from(back.data)).toEqual(Array.from(ws.data));
    view.fill(0);
    expect(back.data[0]).toBe(0.5);
  });

  test('serializeWeightsParts concatenates to the canonical bytes', () => {
    expect(concatBytes(serializeWeightsParts(ws))).toEqual(serializeWeights(ws));
  });

  test('deserializeOwnedWeights views aligned input without copying and copies unaligned input', () => {
    const bytes = serializeWeights(ws);
    const owned = deserializeOwnedWeights(bytes);
    expect(Array.from(owned.data)).toEqual(Array.from(ws.data));
    expect(owned.data.buffer).toBe(bytes.buffer);
    const host = new Uint8Array(bytes.length + 1);
    host.set(bytes, 1);
    const unaligned = deserializeOwnedWeights(host.subarray(1));
    expect(unaligned.data.buffer).not.toBe(host.buffer);
    expect(Array.from(unaligned.data)).toEqual(Array.from(ws.data));
    const bad = new Uint8Array(bytes);
    new DataView(bad.buffer).setFloat32(bad.length - 4, NaN, true);
    expect(codeOf(() => deserializeOwnedWeights(bad))).toBe('NON_FINITE_WEIGHTS');
  });

  test('any single-byte flip in the header region is rejected or changes the digest (property)', () => {
    const bytes = serializeWeights(ws);
    const h = new DataView(bytes.buffer, bytes.byteOffset).getUint32(5, true);
    const end = (9 + h + 3) & ~3;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: end - 1 }), fc.integer({ min: 1, max: 255 }), (pos, mask) => {
        const bad = new Uint8Array(bytes);
        bad[pos] = bad[pos]! ^ mask;
        let back: WeightSet | undefined;
        try {
          back = deserializeWeights(bad);
        } catch (e) {
          expect(isTwinfedError(e, 'INVALID_WEIGHTS')).toBe(true);
        }
        if (back) expect(weightsDigest(back)).not.toBe(weightsDigest(ws));
      }),
      { numRuns: 300 },
    );
  });

  test('every truncation is rejected (property) and so are trailing bytes', () => {
    const bytes = serializeWeights(ws);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), (n) => {
        expect(codeOf(() => deserializeWeights(bytes.subarray(0, n)))).toBe('INVALID_WEIGHTS');
      }),
    );
    const longer = new Uint8Array(bytes.length + 4);
    longer.set(bytes);
    expect(codeOf(() => deserializeWeights(longer))).toBe('INVALID_WEIGHTS');
  });

  test('rejects NaN and ±Infinity in input bytes', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const bytes = serializeWeights(ws);
      const dataOffset = bytes.length - 8 * 4;
      new DataView(bytes.buffer, bytes.byteOffset).setFloat32(dataOffset + 12, bad, true);
      expect(codeOf(() => deserializeWeights(bytes))).toBe('NON_FINITE_WEIGHTS');
    }
  });

  test('refuses to serialise non-finite or mis-sized data', () => {
    const nan = new Float32Array(ws.data);
    nan[7] = NaN;
    expect(codeOf(() => serializeWeights({ layout, data: nan }))).toBe('NON_FINITE_WEIGHTS');
    expect(codeOf(() => weightsDigest({ layout, data: nan }))).toBe('NON_FINITE_WEIGHTS');
    expect(codeOf(() => serializeWeights({ layout, data: new Float32Array(7) }))).toBe('INVALID_WEIGHTS');
    expect(
      codeOf(() =>
        serializeWeights({ layout: [{ name: 'a', shape: [0], dtype: 'float32' }], data: new Float32Array(0) }),
      ),
    ).toBe('INVALID_WEIGHTS');
    expect(codeOf(() => serializeWeights({ layout: [...layout, layout[0]!], data: new Float32Array(14) }))).toBe(
      'INVALID_WEIGHTS',
    );
  });

  test('enforces the expected layout (wrong shape, name, order)', () => {
    const bytes = serializeWeights(ws);
    const wrongShape: Layout = [{ name: 'dense/kernel', shape: [2, 3], dtype: 'float32' }, layout[1]!];
    const wrongName: Layout = [layout[0]!, { name: 'dense/b', shape: [2], dtype: 'float32' }];
    expect(codeOf(() => deserializeWeights(bytes, { expectedLayout: wrongShape }))).toBe('INVALID_WEIGHTS');
    expect(codeOf(() => deserializeWeights(bytes, { expectedLayout: wrongName }))).toBe('INVALID_WEIGHTS');
    expect(codeOf(() => deserializeWeights(bytes, { expectedLayout: [layout[1]!, layout[0]!] }))).toBe(
      'INVALID_WEIGHTS',
    );
    expect(codeOf(() => deserializeWeights(bytes, { expectedLayout: layout }))).toBe('none');
  });

  test('rejects oversize input before parsing it', () => {
    const bytes = serializeWeights(ws);
    expect(codeOf(() => deserializeWeights(bytes, { maxBytes: bytes.length - 1 }))).toBe('PAYLOAD_TOO_LARGE');
    expect(codeOf(() => deserializeWeights(bytes, { maxBytes: bytes.length }))).toBe('none');
  });

  function frame(
    headerText: string,
    dataBytes: number,
    opts: { version?: number; headerLength?: number; pad?: number } = {},
  ): Uint8Array {
    const header = utf8(headerText);
    const off = (9 + header.length + 3) & ~3;
    const out = new Uint8Array(off + dataBytes);
    out.set(utf8('TWFW'));
    out[4] = opts.version ?? 1;
    new DataView(out.buffer).setUint32(5, opts.headerLength ?? header.length, true);
    out.set(header, 9);
    if (opts.pad !== undefined && off > 9 + header.length) out[9 + header.length] = opts.pad;
    return out;
  }
  const good = '{"layout":[{"dtype":"float32","name":"w","shape":[2]}]}';

  test('never trusts declared lengths or headers', () => {
    expect(codeOf(() => deserializeWeights(frame(good, 8)))).toBe('none');
    expect(codeOf(() => deserializeWeights(frame(good, 8, { version: 2 })))).toBe('INVALID_WEIGHTS');
    expect(codeOf(() => deserializeWeights(frame(good, 8, { headerLength: 0xffffffff })))).toBe('INVALID_WEIGHTS');
    expect(codeOf(() => deserializeWeights(frame(good, 8, { headerLength: 10 })))).toBe('INVALID_WEIGHTS');
    expect(codeOf(() => deserializeWeights(frame(good + ' ', 8)))).toBe('INVALID_WEIGHTS'); // not canonical
    expect(codeOf(() => deserializeWeights(frame(good.replace('"dtype":"float32",', ''), 8)))).toBe('INVALID_WEIGHTS');
    expect(codeOf(() => deserializeWeights(frame(good.replace('float32', 'float64'), 8)))).toBe('INVALID_WEIGHTS');
    expect(codeOf(() => deserializeWeights(frame(good.replace('"shape":[2]', '"shape":[2],"x":1'), 8)))).toBe(
      'INVALID_WEIGHTS',
    );
    expect(codeOf(() => deserializeWeights(frame(good.replace('[2]', '[2.5]'), 8)))).toBe('INVALID_WEIGHTS');
    expect(codeOf(() => deserializeWeights(frame(good.replace('[2]', '[2147483647,2147483647,2147483647]'), 8)))).toBe(
      'INVALID_WEIGHTS',
    );
    expect(codeOf(() => deserializeWeights(frame('{"layout":', 8)))).toBe('INVALID_WEIGHTS');
    expect(codeOf(() => deserializeWeights(frame(good, 12)))).toBe('INVALID_WEIGHTS');
    expect(codeOf(() => deserializeWeights(new Uint8Array([0x54, 0x57, 0x46, 0x58, 1, 0, 0, 0, 0])))).toBe(
      'INVALID_WEIGHTS',
    );
    expect(codeOf(() => deserializeWeights('TWFW' as unknown as Uint8Array))).toBe('INVALID_WEIGHTS');
  });

  test('rejects non-zero padding', () => {
    const header = '{"layout":[{"dtype":"float32","name":"ab","shape":[1]}]}';
    expect((9 + utf8(header).length) % 4).not.toBe(0);
    expect(codeOf(() => deserializeWeights(frame(header, 4)))).toBe('none');
    expect(codeOf(() => deserializeWeights(frame(header, 4, { pad: 1 })))).toBe('INVALID_WEIGHTS');
  });
});

describe('assertFinite', () => {
  test('passes finite data and reports the first bad index', () => {
    expect(() => assertFinite(Float32Array.from([0, -0, 3.4e38, -1e-45]))).not.toThrow();
    try {
      assertFinite(Float32Array.from([1, 2, Infinity, NaN]));
      throw new Error('expected a throw');
    } catch (e) {
      expect(isTwinfedError(e, 'NON_FINITE_WEIGHTS')).toBe(true);
      expect((e as { details?: unknown }).details).toEqual({ index: 2 });
    }
  });
});
