/**
 * Plain-array datasets: a row-major feature matrix and a 0/1 label vector. No tfjs here, so data
 * preparation is testable and usable by code that never trains.
 */

/**
 * `n` examples of `d` features: `x` is row-major `[n, d]`, `y` holds 0/1 labels. Time-to-event data (Cox models)
 * add `time`, each row's time to the event or to censoring (days, > 0), and `y` is then the event indicator
 * (1 observed, 0 censored).
 */
export interface Split {
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly n: number;
  readonly d: number;
  readonly time?: Float32Array;
}

/** A row-major `[n, d]` matrix of any numeric array type (float64 while preparing data, float32 to train). */
export interface Matrix {
  readonly x: ArrayLike<number>;
  readonly n: number;
  readonly d: number;
}

/** Per-feature z-score statistics: `x' = (x − mean) / (std + 1e-9)`. */
export interface Standardizer {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** Added to the std so constant features map to 0 instead of NaN (FLamby's constant). */
export const STD_EPSILON = 1e-9;

/** Checks that `x`, `y`, `n` and `d` agree; throws a `RangeError` naming the mismatch. */
export function assertSplit(split: Split): void {
  if (!Number.isInteger(split.n) || split.n < 0 || !Number.isInteger(split.d) || split.d < 1) {
    throw new RangeError(`bad split shape n=${split.n} d=${split.d}`);
  }
  if (split.x.length !== split.n * split.d)
    throw new RangeError(`x has ${split.x.length} values, expected n·d = ${split.n * split.d}`);
  if (split.y.length !== split.n) throw new RangeError(`y has ${split.y.length} values, expected n = ${split.n}`);
  if (split.time && split.time.length !== split.n)
    throw new RangeError(`time has ${split.time.length} values, expected n = ${split.n}`);
}

/**
 * Mean and unbiased (n − 1) standard deviation of each feature, computed in float64.
 * With fewer than two rows the std is 0 (so the feature is only centred).
 */
export function fitStandardizer(matrices: Matrix | readonly Matrix[]): Standardizer {
  const list: readonly Matrix[] = isMatrixList(matrices) ? matrices : [matrices];
  const d = list[0]?.d;
  if (d === undefined) throw new RangeError('fitStandardizer needs at least one split');
  const total = list.reduce((acc, s) => {
    if (s.d !== d) throw new RangeError('splits disagree on the number of features');
    return acc + s.n;
  }, 0);
  const mean = new Array<number>(d).fill(0);
  const sq = new Array<number>(d).fill(0);
  for (const s of list) for (let i = 0; i < s.n; i++) for (let j = 0; j < d; j++) mean[j]! += s.x[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j] = total > 0 ? mean[j]! / total : 0;
  for (const s of list) {
    for (let i = 0; i < s.n; i++) for (let j = 0; j < d; j++) sq[j]! += (s.x[i * d + j]! - mean[j]!) ** 2;
  }
  const std = sq.map((v) => (total > 1 ? Math.sqrt(v / (total - 1)) : 0));
  return { mean, std };
}

function isMatrixList(m: Matrix | readonly Matrix[]): m is readonly Matrix[] {
  return Array.isArray(m);
}

/** A new float32 split with every feature z-scored by `stats` (labels and times are shared, not copied). */
export function applyStandardizer(
  split: Matrix & { readonly y: Float32Array; readonly time?: Float32Array },
  stats: Standardizer,
): Split {
  if (stats.mean.length !== split.d || stats.std.length !== split.d)
    throw new RangeError('standardizer width differs from the split');
  const x = new Float32Array(split.x.length);
  for (let i = 0; i < split.n; i++) {
    for (let j = 0; j < split.d; j++) {
      const k = i * split.d + j;
      x[k] = (split.x[k]! - stats.mean[j]!) / (stats.std[j]! + STD_EPSILON);
    }
  }
  return { x, y: split.y, n: split.n, d: split.d, ...(split.time ? { time: split.time } : {}) };
}

/** Stacks splits with the same width, in order (with their times when every split has them). */
export function concatSplits(splits: readonly Split[]): Split {
  const d = splits[0]?.d;
  if (d === undefined) throw new RangeError('concatSplits needs at least one split');
  const timed = splits[0]!.time !== undefined;
  const n = splits.reduce((acc, s) => acc + s.n, 0);
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  const time = timed ? new Float32Array(n) : undefined;
  let row = 0;
  for (const s of splits) {
    if (s.d !== d) throw new RangeError('splits disagree on the number of features');
    if ((s.time !== undefined) !== timed) throw new RangeError('splits disagree on having event times');
    x.set(s.x, row * d);
    y.set(s.y, row);
    if (time && s.time) time.set(s.time, row);
    row += s.n;
  }
  return { x, y, n, d, ...(time ? { time } : {}) };
}
