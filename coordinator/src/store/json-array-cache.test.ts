import { JsonArrayCache } from './json-array-cache';

describe('JsonArrayCache', () => {
  test('parses a text once; every caller gets its own copy', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const cache = new JsonArrayCache<string>(2);
      const a = cache.parse('["s1","s2"]');
      const b = cache.parse('["s1","s2"]');
      expect(parse).toHaveBeenCalledTimes(1);
      expect(b).toEqual(['s1', 's2']);
      expect(b).not.toBe(a);
      a.push('intruder');
      expect(cache.parse('["s1","s2"]')).toEqual(['s1', 's2']);
      expect(cache.parse('["s1","s2","s3"]')).toEqual(['s1', 's2', 's3']);
      expect(parse).toHaveBeenCalledTimes(2);
    } finally {
      parse.mockRestore();
    }
  });

  test('forgets the least recently used text beyond its capacity', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const cache = new JsonArrayCache<string>(2);
      cache.parse('["a"]');
      cache.parse('["b"]');
      cache.parse('["a"]'); // a is now the most recent
      cache.parse('["c"]'); // evicts b
      expect(parse).toHaveBeenCalledTimes(3);
      cache.parse('["a"]');
      expect(parse).toHaveBeenCalledTimes(3);
      expect(cache.parse('["b"]')).toEqual(['b']);
      expect(parse).toHaveBeenCalledTimes(4);
    } finally {
      parse.mockRestore();
    }
  });
});
