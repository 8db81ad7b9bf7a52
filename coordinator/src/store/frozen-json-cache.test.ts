import { FrozenJsonCache } from './frozen-json-cache';

describe('FrozenJsonCache', () => {
  test('parses a text once and hands out the same deep-frozen value; another text is another value', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const cache = new FrozenJsonCache<{ rounds: number; model: { features: string[] } }>(2);
      const text = '{"rounds":5,"model":{"features":["a","b"]}}';
      const a = cache.parse(text);
      const b = cache.parse(text);
      expect(parse).toHaveBeenCalledTimes(1);
      expect(b).toBe(a);
      expect(Object.isFrozen(a) && Object.isFrozen(a.model) && Object.isFrozen(a.model.features)).toBe(true);
      expect(() => {
        a.model.features.push('intruder');
      }).toThrow(TypeError);
      expect(cache.parse(text)).toEqual({ rounds: 5, model: { features: ['a', 'b'] } });
      expect(cache.parse('{"rounds":6,"model":{"features":[]}}').rounds).toBe(6);
      expect(parse).toHaveBeenCalledTimes(2);
    } finally {
      parse.mockRestore();
    }
  });

  test('forgets the least recently used text beyond its capacity', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const cache = new FrozenJsonCache<number[]>(2);
      cache.parse('[1]');
      cache.parse('[2]');
      cache.parse('[1]'); // 1 is now the most recent
      cache.parse('[3]'); // evicts 2
      expect(parse).toHaveBeenCalledTimes(3);
      cache.parse('[1]');
      expect(parse).toHaveBeenCalledTimes(3);
      cache.parse('[2]');
      expect(parse).toHaveBeenCalledTimes(4);
    } finally {
      parse.mockRestore();
    }
  });
});
