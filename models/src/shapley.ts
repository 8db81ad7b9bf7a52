import { SeededRandom, TwinfedError } from '@twinfed/shared';

/**
 * Interventional (baseline) Shapley values of one prediction, generic over the model: all it needs is a
 * batched scoring function. The value of a coalition S of features is
 *   v(S) = mean over background rows b of f(x_S, b_S̄)
 * (x's values on S, the background row's elsewhere), so v(∅) is the mean score of the background (the base
 * value) and v(all) = f(x). The contributions always add up: Σ φ_j = f(x) − base.
 * - `exact`: every one of the 2^d coalitions, scored in large batches; up to {@link EXACT_SHAPLEY_MAX_FEATURES}.
 * - `sampling`: permutation sampling (Štrumbelj & Kononenko, 2014) with antithetic pairs (each permutation and
 *   its reverse). Each permutation walks every background row from b to x one feature at a time, so the
 *   marginal contributions telescope and additivity is exact for the estimate too; the estimate is unbiased and
 *   its error falls as 1/√permutations.
 */

/** Scores `n` rows, row-major `[n, d]`, one number per row (e.g. log-odds, a Cox risk score). */
export type BatchScorer = (x: Float32Array, n: number) => Promise<Float32Array>;

/** The largest feature count the exact method enumerates (2^16 coalitions). */
const EXACT_SHAPLEY_MAX_FEATURES = 16;

/** Options of {@link shapleyValues}. */
interface ShapleyOptions {
  score: BatchScorer;
  /** The row explained, length d. */
  x: Float32Array;
  /** Background rows, row-major `[m, d]`, m ≥ 1. */
  background: Float32Array;
  /** `auto` (default): exact up to 16 features, sampling beyond. */
  method?: 'auto' | 'exact' | 'sampling';
  /** Permutations of the sampling method (rounded up to an even number for the antithetic pairs); default 64. */
  permutations?: number;
  /** Seed of the sampling method's permutations; default 0. */
  seed?: number;
  /** Most rows per call of `score`; default 65,536. */
  batchRows?: number;
}

/** Shapley values of one prediction, in the units of the scoring function. */
interface ShapleyResult {
  /** v(∅): the mean score of the background rows. */
  readonly base: number;
  /** f(x). */
  readonly value: number;
  /** φ_j per feature, in input order; Σ φ_j = value − base. */
  readonly contributions: Float64Array;
  readonly method: 'exact' | 'sampling';
}

/** Exact or sampled interventional Shapley values of `x` against `background`. */
export async function shapleyValues(options: ShapleyOptions): Promise<ShapleyResult> {
  const { x, background } = options;
  const d = x.length;
  if (d === 0 || background.length === 0 || background.length % d !== 0)
    throw new TwinfedError('BAD_REQUEST', `the background needs at least one row of ${d} values`);
  const batchRows = options.batchRows ?? 65_536;
  if (!Number.isInteger(batchRows) || batchRows < 1)
    throw new TwinfedError('BAD_REQUEST', 'batchRows must be a positive integer');
  const requested = options.method ?? 'auto';
  const method = requested === 'auto' ? (d <= EXACT_SHAPLEY_MAX_FEATURES ? 'exact' : 'sampling') : requested;
  if (method === 'exact' && d > EXACT_SHAPLEY_MAX_FEATURES)
    throw new TwinfedError(
      'BAD_REQUEST',
      `exact Shapley values enumerate 2^d coalitions: at most ${EXACT_SHAPLEY_MAX_FEATURES} features, not ${d}`,
    );
  return method === 'exact' ? exact(options, batchRows) : sampling(options, batchRows);
}

/** Fills rows in batches of at most `batchRows` and scores them; `fill(row, out)` writes row `row` into `out`. */
async function scoreRows(
  score: BatchScorer,
  total: number,
  d: number,
  batchRows: number,
  fill: (row: number, out: Float32Array) => void,
): Promise<Float32Array> {
  const out = new Float32Array(total);
  const buffer = new Float32Array(Math.min(batchRows, total) * d);
  for (let start = 0; start < total; start += batchRows) {
    const n = Math.min(batchRows, total - start);
    for (let r = 0; r < n; r++) fill(start + r, buffer.subarray(r * d, (r + 1) * d));
    const scores = await score(n === batchRows ? buffer : buffer.subarray(0, n * d), n);
    if (scores.length !== n) throw new TwinfedError('INTERNAL', `the scorer returned ${scores.length} of ${n} scores`);
    out.set(scores, start);
  }
  return out;
}

async function exact(options: ShapleyOptions, batchRows: number): Promise<ShapleyResult> {
  const { x, background, score } = options;
  const d = x.length;
  const m = background.length / d;
  const coalitions = 2 ** d;
  // Row r is coalition r / m (bit j set: x_j, else the background's) over background row r % m.
  const scores = await scoreRows(score, coalitions * m, d, batchRows, (r, out) => {
    const mask = Math.floor(r / m);
    const b = (r % m) * d;
    for (let j = 0; j < d; j++) out[j] = (mask >> j) & 1 ? x[j]! : background[b + j]!;
  });
  const v = new Float64Array(coalitions);
  for (let s = 0; s < coalitions; s++) {
    let sum = 0;
    for (let k = 0; k < m; k++) sum += scores[s * m + k]!;
    v[s] = sum / m;
  }
  // weight(|S|) = |S|! (d − |S| − 1)! / d!
  const weight = new Float64Array(d);
  for (let s = 0; s < d; s++) weight[s] = 1 / (d * binomial(d - 1, s));
  const phi = new Float64Array(d);
  for (let s = 0; s < coalitions; s++) {
    const size = popcount(s);
    for (let j = 0; j < d; j++) if (!((s >> j) & 1)) phi[j] = phi[j]! + weight[size]! * (v[s | (1 << j)]! - v[s]!);
  }
  return { base: v[0]!, value: v[coalitions - 1]!, contributions: phi, method: 'exact' };
}

async function sampling(options: ShapleyOptions, batchRows: number): Promise<ShapleyResult> {
  const { x, background, score } = options;
  const d = x.length;
  const m = background.length / d;
  const requested = options.permutations ?? 64;
  if (!Number.isInteger(requested) || requested < 1)
    throw new TwinfedError('BAD_REQUEST', 'permutations must be a positive integer');
  const pairs = Math.ceil(requested / 2);
  const rng = new SeededRandom(options.seed ?? 0);
  const orders: number[][] = [];
  for (let p = 0; p < pairs; p++) {
    const order = rng.shuffle(Array.from({ length: d }, (_, j) => j));
    orders.push(order, [...order].reverse());
  }
  // Per permutation and background row, d + 1 rows: step t has the first t features of the order set to x.
  const walk = d + 1;
  const perPermutation = m * walk;
  const position = orders.map((order) => {
    const at = new Int32Array(d);
    order.forEach((j, t) => (at[j] = t));
    return at;
  });
  const scores = await scoreRows(score, orders.length * perPermutation, d, batchRows, (r, out) => {
    const p = Math.floor(r / perPermutation);
    const b = Math.floor((r % perPermutation) / walk) * d;
    const step = r % walk;
    const at = position[p]!;
    for (let j = 0; j < d; j++) out[j] = at[j]! < step ? x[j]! : background[b + j]!;
  });
  const phi = new Float64Array(d);
  let base = 0;
  for (let p = 0; p < orders.length; p++) {
    const order = orders[p]!;
    for (let k = 0; k < m; k++) {
      const offset = p * perPermutation + k * walk;
      base += scores[offset]!;
      for (let t = 0; t < d; t++) {
        const j = order[t]!;
        phi[j] = phi[j]! + scores[offset + t + 1]! - scores[offset + t]!;
      }
    }
  }
  const samples = orders.length * m;
  for (let j = 0; j < d; j++) phi[j] = phi[j]! / samples;
  base /= samples;
  const value = (await score(x, 1))[0]!;
  return { base, value, contributions: phi, method: 'sampling' };
}

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

function popcount(s: number): number {
  let c = 0;
  for (let v = s; v !== 0; v &= v - 1) c++;
  return c;
}
