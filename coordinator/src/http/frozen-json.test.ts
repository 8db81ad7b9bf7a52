import fc from 'fast-check';
import { frozenJsonParts } from './frozen-json';

const frozenJson = (value: object) => Buffer.concat(frozenJsonParts(value));

/** Freezes the objects and arrays of `value` whose path hash says so (a mix of frozen and mutable parts). */
function freezeSome(value: unknown, seed: number, depth = 0): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [] : {};
  Object.entries(value).forEach(([k, v], i) => {
    (copy as Record<string, unknown>)[k] = freezeSome(v, (seed * 31 + i + 7) >>> 0, depth + 1);
  });
  if (seed % 3 !== 0) Object.freeze(copy);
  return copy;
}

describe('frozenJson', () => {
  test("gives JSON.stringify's bytes for any JSON value with any parts frozen, again and again", () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue()),
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.nat(),
        (list, record, seed) => {
          const value = freezeSome({ list, record, shared: list }, seed) as object;
          const want = Buffer.from(JSON.stringify(value));
          expect(frozenJson(value)).toEqual(want);
          expect(frozenJson(value)).toEqual(want); // the second time from the kept parts
        },
      ),
      { numRuns: 150 },
    );
  });

  test('leaves out what JSON.stringify leaves out, and writes null where it does', () => {
    const value = {
      a: undefined,
      b: () => 1,
      c: [undefined, () => 1, Symbol('s'), 1],
      d: new Date(0),
      e: Object.freeze({ f: Object.freeze([1, 'x', null]) }),
    };
    expect(frozenJson(value).toString()).toBe(JSON.stringify(value));
  });

  test('a frozen object holding a mutable one is serialised afresh on each call, never from a stale copy', () => {
    const inner = { n: 1 };
    const outer = Object.freeze({ inner, list: Object.freeze([inner]) });
    expect(frozenJson(outer).toString()).toBe('{"inner":{"n":1},"list":[{"n":1}]}');
    inner.n = 2;
    expect(frozenJson(outer).toString()).toBe('{"inner":{"n":2},"list":[{"n":2}]}');
  });
});
