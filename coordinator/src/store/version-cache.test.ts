import type { ModelVersion } from './records';
import { VersionCache, WeightsCache } from './version-cache';

const row = (id: string) => ({ id, meta: JSON.stringify({ contributors: [{ siteId: 'a', numExamples: 3 }] }) });
const parse = (r: { id: string; meta: string }) =>
  ({
    id: r.id,
    federationId: 'f',
    parentVersionId: null,
    round: 1,
    meta: JSON.parse(r.meta),
    signature: 's',
    weightsSha256: 'h',
    createdAt: 't',
  }) as ModelVersion;

describe('VersionCache', () => {
  test('parses a version once and hands out the same frozen record', () => {
    const cache = new VersionCache();
    const spy = jest.fn(parse);
    const first = cache.of(row('v1'), spy);
    const second = cache.of(row('v1'), spy);
    expect(second).toBe(first);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(cache.get('v1')).toBe(first);
    expect(() => {
      (first.meta.contributors as { numExamples: number }[])[0]!.numExamples = 99;
    }).toThrow(TypeError);
    expect(() => {
      (first as { round: number }).round = 2;
    }).toThrow(TypeError);
  });

  test('forgets the least recently used version beyond its capacity', () => {
    const cache = new VersionCache(2);
    cache.of(row('v1'), parse);
    cache.of(row('v2'), parse);
    cache.get('v1'); // v2 is now the least recently used
    cache.of(row('v3'), parse);
    expect(cache.get('v2')).toBeUndefined();
    expect(cache.get('v1')?.id).toBe('v1');
    expect(cache.get('v3')?.id).toBe('v3');
  });
});

describe('WeightsCache', () => {
  const w = (n: number, fill: number) => new Uint8Array(n).fill(fill);

  test('hands out copies: neither the stored nor a returned array changes what is cached', () => {
    const cache = new WeightsCache(100);
    const original = w(10, 1);
    cache.put('v1', original);
    original.fill(9);
    const got = cache.get('v1')!;
    expect(got).toEqual(w(10, 1));
    got.fill(7);
    expect(cache.get('v1')).toEqual(w(10, 1));
    expect(cache.get('v2')).toBeUndefined();
  });

  test('keeps at most maxBytes, least recently used out first; larger than the cache: not kept', () => {
    const cache = new WeightsCache(100);
    cache.put('a', w(40, 1));
    cache.put('b', w(40, 2));
    cache.get('a'); // b is now the least recently used
    cache.put('c', w(40, 3));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toEqual(w(40, 1));
    expect(cache.get('c')).toEqual(w(40, 3));
    cache.put('huge', w(101, 4));
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.get('a')).toEqual(w(40, 1));
  });
});
