import type { ModelVersion } from './records';
import { VersionCache } from './version-cache';

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
