import { SeededRandom, TwinfedError } from '@twinfed/shared';
import { assertSplit, type Split } from '@twinfed/models';

/** A site's local data, already featurised: feature names (model input order) and the train/test splits. */
export interface LocalDataset {
  readonly features: readonly string[];
  readonly train: Split;
  readonly test: Split;
}

/** Rows `indices` of `split`, in that order. */
function takeRows(split: Split, indices: readonly number[]): Split {
  const { d } = split;
  const x = new Float32Array(indices.length * d);
  const y = new Float32Array(indices.length);
  const time = split.time ? new Float32Array(indices.length) : undefined;
  indices.forEach((r, i) => {
    x.set(split.x.subarray(r * d, (r + 1) * d), i * d);
    y[i] = split.y[r]!;
    if (time) time[i] = split.time![r]!;
  });
  return { x, y, n: indices.length, d, ...(time ? { time } : {}) };
}

/**
 * A seeded, stratified train/test split: within each label, rows are shuffled with `seed` and the first
 * `round(testFraction · count)` go to test. The same rows, fraction and seed always give the same split.
 * Throws `CONFIG_INVALID` on a bad fraction or when a split would be empty.
 */
export function splitDataset(opts: {
  data: Split;
  features: readonly string[];
  testFraction: number;
  seed: number;
}): LocalDataset {
  const { data, features, testFraction, seed } = opts;
  assertSplit(data);
  if (data.d !== features.length)
    throw new TwinfedError('CONFIG_INVALID', `The data has ${data.d} features but ${features.length} names.`);
  if (!(testFraction > 0 && testFraction < 1))
    throw new TwinfedError('CONFIG_INVALID', 'The test fraction must be strictly between 0 and 1.');
  const rng = new SeededRandom(seed);
  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < data.n; i++) {
    const label = data.y[i]!;
    byLabel.set(label, [...(byLabel.get(label) ?? []), i]);
  }
  const train: number[] = [];
  const test: number[] = [];
  for (const label of [...byLabel.keys()].sort((a, b) => a - b)) {
    const idx = rng.shuffle(byLabel.get(label)!);
    const k = Math.round(idx.length * testFraction);
    test.push(...idx.slice(0, k));
    train.push(...idx.slice(k));
  }
  if (train.length === 0 || test.length === 0) {
    throw new TwinfedError(
      'CONFIG_INVALID',
      `Cannot split ${data.n} rows into non-empty train and test sets with fraction ${testFraction}.`,
    );
  }
  train.sort((a, b) => a - b);
  test.sort((a, b) => a - b);
  return { features, train: takeRows(data, train), test: takeRows(data, test) };
}
