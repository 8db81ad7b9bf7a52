import { TwinfedError } from '@twinfed/shared';
import { type KeptUpdate, robustStrategy } from './robust';
import type { Strategy } from './types';

/**
 * Krum scores (Blanchard et al., NeurIPS 2017): for each update, the sum of its squared L2 distances
 * to its n − f − 2 nearest other updates. Distances between weights equal distances between deltas
 * (same base), so weights are used directly. O(n²·d) time, float64.
 */
function krumScores(updates: readonly KeptUpdate[], byzantine: number): number[] {
  const n = updates.length;
  const neighbours = n - byzantine - 2;
  if (neighbours < 1) throw new TwinfedError('INTERNAL', `krum needs at least ${2 * byzantine + 3} updates, got ${n}.`);
  const dist: number[][] = updates.map(() => new Array<number>(n).fill(0));
  for (let a = 0; a < n; a++) {
    const wa = updates[a]!.weights;
    for (let b = a + 1; b < n; b++) {
      const wb = updates[b]!.weights;
      let s = 0;
      for (let j = 0; j < wa.length; j++) {
        const d = wa[j]! - wb[j]!;
        s += d * d;
      }
      dist[a]![b] = s;
      dist[b]![a] = s;
    }
  }
  return dist.map((row, i) =>
    row
      .filter((_, j) => j !== i)
      .sort((x, y) => x - y)
      .slice(0, neighbours)
      .reduce((acc, x) => acc + x, 0),
  );
}

/**
 * Krum / Multi-Krum (Blanchard et al. 2017), tolerating `byzantine` = f faulty sites among n ≥ 2f + 3.
 * Krum (multi = 1) returns the weights of the update with the lowest score; Multi-Krum returns the
 * unweighted mean of the `multi` lowest-scoring updates, capped at n − f (with multi = n − f it
 * averages as many updates as there are guaranteed honest ones). Ties go to the smaller site id.
 * Keeps all updates: O(sites × model) memory.
 */
export function krum(opts: { byzantine: number; multi: number }): Strategy {
  const { byzantine, multi } = opts;
  if (!Number.isInteger(byzantine) || byzantine < 0 || !Number.isInteger(multi) || multi < 1) {
    throw new TwinfedError('INVALID_PLAN', 'krum needs an integer byzantine ≥ 0 and multi ≥ 1.');
  }
  return robustStrategy({
    name: 'krum',
    minResults: 2 * byzantine + 3,
    rule: (updates) => {
      const scores = krumScores(updates, byzantine);
      const keep = Math.min(multi, updates.length - byzantine);
      const ranked = scores.map((score, i) => ({ score, i })).sort((a, b) => a.score - b.score || a.i - b.i);
      const chosen = ranked.slice(0, keep).map((r) => updates[r.i]!);
      const size = chosen[0]!.weights.length;
      const sum = new Float64Array(size);
      for (const u of chosen) for (let j = 0; j < size; j++) sum[j]! += u.weights[j]!;
      const weights = new Float32Array(size);
      for (let j = 0; j < size; j++) weights[j] = sum[j]! / chosen.length;
      return {
        weights,
        contributors: chosen.map((u) => u.siteId),
        metrics: { krumSelected: chosen.length, krumBestScore: ranked[0]!.score },
      };
    },
  });
}
