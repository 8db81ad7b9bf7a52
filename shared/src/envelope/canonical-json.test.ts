import fc from 'fast-check';
import { canonicalJson } from './canonical-json';

describe('canonicalJson', () => {
  test('sorts keys recursively and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, { d: 'x', c: -0 }], é: 2, B: 3 })).toBe(
      '{"B":3,"a":[true,null,{"c":0,"d":"x"}],"b":1,"é":2}',
    );
  });

  test('omits undefined object values, like JSON', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });

  test('is independent of key insertion order and parses back to the same value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = canonicalJson(v);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(v)));
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
    );
    expect(canonicalJson({ x: 1, y: { p: 1, q: 2 } })).toBe(canonicalJson({ y: { q: 2, p: 1 }, x: 1 }));
  });

  test("orders an object's keys as Array.prototype.sort orders strings, few or many (property; undefined omitted)", () => {
    const reference = (o: Record<string, number | undefined>) =>
      `{${Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${o[k]}`)
        .join(',')}}`;
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: 'binary' }), fc.option(fc.integer(), { nil: undefined }), { maxKeys: 80 }),
        (o) => {
          // A nested value keeps the object off the one-call path of sorted flat records.
          expect(canonicalJson({ o: { ...o, z: { a: [1] } } })).toBe(
            `{"o":${reference({ ...o, z: 0 }).replace(/"z":0/, '"z":{"a":[1]}')}}`,
          );
        },
      ),
    );
  });

  test('writes an array of strings item by item, as JSON.stringify does each (property; holes still refused)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' })), (ids) => {
        expect(canonicalJson({ ids })).toBe(`{"ids":[${ids.map((x) => JSON.stringify(x)).join(',')}]}`);
      }),
    );
    // eslint-disable-next-line no-sparse-arrays
    expect(() => canonicalJson(['a', , 'b'])).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  test('writes records whose keys come in order as the key-by-key rules do (property; integer-like keys, NaN)', () => {
    /** The rules of the module comment, key by key (no native shortcut). */
    const reference = (v: unknown): string =>
      Array.isArray(v)
        ? `[${v.map(reference).join(',')}]`
        : typeof v === 'object' && v !== null
          ? `{${Object.keys(v)
              .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
              .sort()
              .map((k) => `${JSON.stringify(k)}:${reference((v as Record<string, unknown>)[k])}`)
              .join(',')}}`
          : JSON.stringify(v);
    const inOrder = (o: Record<string, unknown>) =>
      Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, o[k]]),
      );
    const flat = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.boolean(),
      fc.constant(null),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer(),
    );
    const record = fc.dictionary(fc.oneof(fc.string(), fc.nat().map(String)), flat).map(inOrder);
    fc.assert(
      fc.property(fc.oneof(record, fc.array(record), fc.array(fc.oneof(record, fc.string()))), (v) => {
        expect(canonicalJson(v)).toBe(reference(v));
      }),
    );
    fc.assert(fc.property(fc.jsonValue(), (v) => expect(canonicalJson(v)).toBe(reference(v))));
    // Integer-like keys come first in JSON.stringify's order, not in sorted order.
    expect(canonicalJson({ '10': 'a', '9': 'b', x: 1 })).toBe('{"10":"a","9":"b","x":1}');
    expect(canonicalJson([{ a: 'x', b: undefined }])).toBe('[{"a":"x"}]');
    expect(() => canonicalJson([{ a: 'x', b: NaN }])).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => canonicalJson({ a: 'x', b: () => 1 })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  test.each<[string, unknown]>([
    ['NaN', { a: NaN }],
    ['Infinity', [Infinity]],
    ['undefined in array', [1, undefined]],
    ['bigint', { a: BigInt(1) }],
    ['function', { f: () => 1 }],
    ['symbol', Symbol('s')],
    ['Date', { d: new Date(0) }],
    ['typed array', new Uint8Array(2)],
    ['top-level undefined', undefined],
  ])('rejects %s', (_l, v) => {
    expect(() => canonicalJson(v)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  test('rejects cycles but allows shared subtrees', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => canonicalJson(a)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    const shared = { k: 1 };
    expect(canonicalJson({ x: shared, y: [shared] })).toBe('{"x":{"k":1},"y":[{"k":1}]}');
  });
});
