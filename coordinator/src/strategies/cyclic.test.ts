import { cycleOrder, cyclic } from './cyclic';
import { ctxOf, result, runRound } from './__tests__/fixtures';

const sites = ['d', 'b', 'a', 'c'];

function pick(opts: { round: number; seed?: number; deterministic?: boolean; available?: string[] }): string {
  const plan = cyclic({ deterministic: opts.deterministic ?? false }).configureRound({
    ...ctxOf([0], { round: opts.round, seed: opts.seed ?? 42 }),
    available: opts.available ?? sites,
    minSites: 1,
  });
  expect(plan.selected).toHaveLength(1);
  return plan.selected[0]!;
}

describe('cyclic', () => {
  test('visits every site exactly once per cycle', () => {
    for (const deterministic of [true, false]) {
      for (let cycle = 0; cycle < 5; cycle++) {
        const visited = [1, 2, 3, 4].map((k) => pick({ round: cycle * 4 + k, deterministic }));
        expect([...visited].sort()).toEqual(['a', 'b', 'c', 'd']);
      }
    }
  });

  test('keeps the sorted order when deterministic', () => {
    expect([1, 2, 3, 4, 5].map((round) => pick({ round, deterministic: true }))).toEqual(['a', 'b', 'c', 'd', 'a']);
  });

  test('reshuffles each cycle, reproducibly from (seed, round) alone', () => {
    const orders = (seed: number) => Array.from({ length: 24 }, (_, r) => pick({ round: r + 1, seed }));
    expect(orders(7)).toEqual(orders(7));
    expect(orders(7)).not.toEqual(orders(8));
    const cycles = Array.from({ length: 6 }, (_, c) =>
      orders(7)
        .slice(c * 4, c * 4 + 4)
        .join(''),
    );
    expect(new Set(cycles).size).toBeGreaterThan(1);
    // the same answer for a round asked on its own, and for any order of the available list
    expect(pick({ round: 11, seed: 7, available: ['c', 'a', 'd', 'b'] })).toBe(orders(7)[10]);
    expect(cycleOrder({ sites, seed: 7, cycle: 2, deterministic: false })[2]).toBe(orders(7)[10]);
  });

  test('passes the weights on: each round returns the selected site’s weights exactly', () => {
    const s = cyclic({ deterministic: false });
    let global: Float32Array = Float32Array.of(0.1, -2, 3.3);
    for (let round = 1; round <= 8; round++) {
      const site = pick({ round });
      const trained = global.map((x) => x + 1);
      const out = runRound(s, { round, global, state: {}, seed: 42 }, [result(site, 17, trained)]);
      expect(Array.from(out.weights)).toEqual(Array.from(trained));
      expect(out.contributors).toEqual([site]);
      expect(out.metrics.sites).toBe(1);
      global = out.weights;
    }
    expect(Array.from(global)).toEqual(Array.from(Float32Array.of(8.1, 6, 11.3)));
  });

  test('takes one update per round and fails without one', () => {
    const s = cyclic({ deterministic: true });
    const acc = s.createAccumulator(ctxOf([0]));
    acc.add(result('a', 1, [1]));
    expect(() => acc.add(result('b', 1, [2]))).toThrow(expect.objectContaining({ code: 'SITE_NOT_SELECTED' }));
    expect(Array.from(s.aggregate(ctxOf([0]), acc, []).weights)).toEqual([1]);
    const empty = s.createAccumulator(ctxOf([0]));
    expect(() => s.aggregate(ctxOf([0]), empty, [{ siteId: 'a', reason: 'timeout' }])).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }),
    );
    expect(() => pick({ round: 1, available: [] })).toThrow(expect.objectContaining({ code: 'NOT_READY' }));
  });
});
