import { isTwinfedError } from '@twinfed/shared';
import { cyclic } from './cyclic';
import { fedAvg } from './fedavg';
import { fedOpt } from './fedopt';
import { krum } from './krum';
import { fedMedian } from './robust';
import type { Strategy } from './types';
import { withCentralDp } from './central-dp';
import { withUpdateClipping } from './clipping';
import { ctxOf, result } from './__tests__/fixtures';

const strategies: Array<[string, Strategy]> = [
  ['fedavg', fedAvg({ serverLr: 1 })],
  ['fedadam', fedOpt('fedadam', { serverLr: 0.1, beta1: 0.9, beta2: 0.99, tau: 1e-3 })],
  ['cyclic', cyclic({ deterministic: true })],
  ['fedmedian', fedMedian()],
  ['krum', krum({ byzantine: 0, multi: 1 })],
  ['clipped fedavg', withUpdateClipping(fedAvg({ serverLr: 1 }), { maxNorm: 100 })],
  ['dp fedavg', withCentralDp(fedAvg({ serverLr: 1 }), { clip: 100, noiseMultiplier: 0, normal: () => 0 })],
];

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (e) {
    return isTwinfedError(e) ? e.code : `not a TwinfedError: ${String(e)}`;
  }
  return undefined;
}

describe.each(strategies)('%s accumulator', (name, s) => {
  const ctx = ctxOf([0, 0, 0], { state: s.initialState(3), selectedSites: 3 });
  const valid = [result('a', 2, [1, 2, 3]), result('b', 3, [2, 1, 0]), result('c', 1, [1.5, 2, 2.5])].slice(
    0,
    name === 'cyclic' ? 1 : 3,
  );
  const clean = (): number[] => {
    const acc = s.createAccumulator(ctx);
    for (const r of valid) acc.add(r);
    return Array.from(s.aggregate(ctx, acc, []).weights);
  };

  test('rejects a second result from the same site and stays as it was', () => {
    const acc = s.createAccumulator(ctx);
    for (const r of valid) acc.add(r);
    expect(codeOf(() => acc.add(result('a', 2, [9, 9, 9])))).toBe('UPDATE_CONFLICT');
    expect(acc.siteIds).toEqual(valid.map((r) => r.siteId));
    expect(Array.from(s.aggregate(ctx, acc, []).weights)).toEqual(clean());
  });

  test('rejects a wrong length, non-finite weights and a bad example count without folding them', () => {
    const acc = s.createAccumulator(ctx);
    expect(codeOf(() => acc.add(result('x', 2, [1, 2])))).toBe('INVALID_WEIGHTS');
    expect(codeOf(() => acc.add(result('x', 2, [1, 2, 3, 4])))).toBe('INVALID_WEIGHTS');
    expect(codeOf(() => acc.add(result('x', 2, [1, Number.NaN, 3])))).toBe('NON_FINITE_WEIGHTS');
    expect(codeOf(() => acc.add(result('x', 2, [1, 2, Number.POSITIVE_INFINITY])))).toBe('NON_FINITE_WEIGHTS');
    expect(codeOf(() => acc.add(result('x', 0, [1, 2, 3])))).toBe('EXAMPLES_OUT_OF_RANGE');
    expect(codeOf(() => acc.add(result('x', 1.5, [1, 2, 3])))).toBe('EXAMPLES_OUT_OF_RANGE');
    expect(codeOf(() => acc.add(result('x', 2 ** 29 + 1, [1, 2, 3])))).toBe('EXAMPLES_OUT_OF_RANGE');
    expect(codeOf(() => acc.add(result('x', Number.MAX_SAFE_INTEGER, [1, 2, 3])))).toBe('EXAMPLES_OUT_OF_RANGE');
    expect(acc.siteIds).toEqual([]);
    for (const r of valid) acc.add(r);
    expect(Array.from(s.aggregate(ctx, acc, []).weights)).toEqual(clean());
  });

  test('accepts the largest claim (2^29) and stays exact: n·w is exact in float64 and the total an exact integer', () => {
    if (name === 'cyclic' || name === 'krum') return; // one site per round / keeps the best-scored update only
    const acc = s.createAccumulator(ctx);
    acc.add(result('big', 2 ** 29, [1, 2, 3]));
    acc.add(result('small', 1, [1 + 2 ** -20, 2, 3]));
    const out = s.aggregate(ctx, acc, []);
    expect(out.metrics.examples).toBe(2 ** 29 + 1);
  });

  test('fails to aggregate an empty round, or an accumulator it did not create', () => {
    expect(codeOf(() => s.aggregate(ctx, s.createAccumulator(ctx), [{ siteId: 'a', reason: 'timeout' }]))).toBe(
      'INTERNAL',
    );
    const foreign = { add: () => undefined, siteIds: [] };
    expect(codeOf(() => s.aggregate(ctx, foreign, []))).toBe('INTERNAL');
  });

  test('keeps no reference to the caller’s buffer', () => {
    const acc = s.createAccumulator(ctx);
    const buffers = valid.map((r) => r.weights.slice());
    valid.forEach((r, i) => acc.add({ ...r, weights: buffers[i]! }));
    for (const b of buffers) b.fill(100);
    expect(Array.from(s.aggregate(ctx, acc, []).weights)).toEqual(clean());
  });
});

test('rejects a context whose round is not a positive integer', () => {
  expect(codeOf(() => fedAvg({ serverLr: 1 }).createAccumulator(ctxOf([0], { round: 0 })))).toBe('INTERNAL');
});
