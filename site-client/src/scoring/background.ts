import { SeededRandom } from '@twinfed/shared';

/**
 * The background of Shapley explanations: a small, seeded sample of the site's own twins (as model inputs).
 * Small because exact Shapley values score 2^d coalitions per background row; seeded and keyed by pseudonymous
 * id so the same twins give the same sample whatever order they are read in. It never leaves the site.
 */

/** Rows in a Shapley background. */
const BACKGROUND_ROWS = 32;
const BACKGROUND_SEED = 15;

/** The indices of at most {@link BACKGROUND_ROWS} of `pids`: a seeded shuffle of them in pid order. */
export function backgroundSample(pids: readonly string[]): number[] {
  const order = pids.map((_, i) => i).sort((a, b) => (pids[a]! < pids[b]! ? -1 : pids[a]! > pids[b]! ? 1 : a - b));
  return new SeededRandom(BACKGROUND_SEED).shuffle(order).slice(0, BACKGROUND_ROWS);
}

/** The rows of `x` (row-major, `d` per row) at `indices`, as one row-major array. */
export function backgroundRows(x: Float32Array, d: number, indices: readonly number[]): Float32Array {
  const out = new Float32Array(indices.length * d);
  indices.forEach((i, k) => out.set(x.subarray(i * d, (i + 1) * d), k * d));
  return out;
}
