import fc from 'fast-check';
import { splitDataset } from './dataset';
import { normalizeDataset } from './normalize';
import { syntheticSplit } from '../__tests__/fixtures';

const features = ['age', 'chol', 'thalach'];

describe('splitDataset', () => {
  test('is deterministic, disjoint, complete and stratified', () => {
    const data = syntheticSplit(101, 7);
    const a = splitDataset({ data, features, testFraction: 0.34, seed: 43 });
    const b = splitDataset({ data, features, testFraction: 0.34, seed: 43 });
    expect(a).toEqual(b);
    expect(a.train.n + a.test.n).toBe(101);
    const key = (x: Float32Array, i: number) => `${x[i * 3]},${x[i * 3 + 1]},${x[i * 3 + 2]}`;
    const trainRows = new Set(Array.from({ length: a.train.n }, (_, i) => key(a.train.x, i)));
    for (let i = 0; i < a.test.n; i++) expect(trainRows.has(key(a.test.x, i))).toBe(false);
    const positives = (s: { y: Float32Array }) => s.y.reduce((n, v) => n + v, 0);
    const total = positives(data);
    expect(positives(a.test)).toBe(Math.round(total * 0.34));
    expect(splitDataset({ data, features, testFraction: 0.34, seed: 44 })).not.toEqual(a);
  });

  test('keeps every row exactly once for any fraction and seed', () => {
    const data = syntheticSplit(30, 3);
    fc.assert(
      fc.property(fc.double({ min: 0.05, max: 0.9, noNaN: true }), fc.nat(1000), (testFraction, seed) => {
        const s = splitDataset({ data, features, testFraction, seed });
        expect(s.train.n + s.test.n).toBe(30);
        const sum = (x: Float32Array) => x.reduce((a, v) => a + v, 0);
        expect(sum(s.train.x) + sum(s.test.x)).toBeCloseTo(sum(data.x), 0);
      }),
      { numRuns: 50 },
    );
  });

  test('refuses impossible splits', () => {
    const data = syntheticSplit(2, 1);
    expect(() => splitDataset({ data, features, testFraction: 1, seed: 1 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => splitDataset({ data, features, testFraction: 0.01, seed: 1 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => splitDataset({ data, features: ['a'], testFraction: 0.5, seed: 1 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});

describe('normalizeDataset', () => {
  test('per-site z-scores both splits with the train statistics only', () => {
    const ds = splitDataset({ data: syntheticSplit(60, 5), features, testFraction: 0.3, seed: 1 });
    const n = normalizeDataset(ds, 'per-site');
    const mean = (x: Float32Array, rows: number, j: number) =>
      Array.from({ length: rows }, (_, i) => x[i * 3 + j]!).reduce((a, b) => a + b, 0) / rows;
    for (let j = 0; j < 3; j++) {
      expect(mean(n.train.x, n.train.n, j)).toBeCloseTo(0, 4);
      const mu = mean(ds.train.x, ds.train.n, j);
      // a test value maps with the train mean/std: (x - mu_train) / std_train
      const std = Math.sqrt(
        Array.from({ length: ds.train.n }, (_, i) => (ds.train.x[i * 3 + j]! - mu) ** 2).reduce((a, b) => a + b, 0) /
          (ds.train.n - 1),
      );
      expect(n.test.x[j]).toBeCloseTo((ds.test.x[j]! - mu) / std, 3);
    }
    expect(normalizeDataset(ds, 'none')).toBe(ds);
  });
});
