import { rememberRound } from './round-cache';

describe('rememberRound', () => {
  test("keeps a federation's current and previous rounds, forgets its older ones, and leaves other federations alone", () => {
    const cache = new Map<string, string>();
    rememberRound(cache, 'f\n1\na', 'f1', 8);
    rememberRound(cache, 'g\n1\na', 'g1', 8);
    rememberRound(cache, 'f\n2\na', 'f2', 8);
    expect([...cache.values()]).toEqual(['f1', 'g1', 'f2']);
    rememberRound(cache, 'f\n3\na', 'f3', 8);
    expect([...cache.values()]).toEqual(['g1', 'f2', 'f3']);
    rememberRound(cache, 'f\n12\nb', 'f12', 8); // round 12 is not round 1 (numbers, not text)
    expect([...cache.values()]).toEqual(['g1', 'f12']);
  });

  test('keeps at most max entries, the oldest going first', () => {
    const cache = new Map<string, number>();
    for (let i = 0; i < 5; i++) rememberRound(cache, `f${i}\n1\n`, i, 3);
    expect([...cache.values()]).toEqual([2, 3, 4]);
  });
});
