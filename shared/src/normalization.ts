import { TwinfedError } from './errors';
import { normalizationStatsLength } from './schemas/api';

/** Pooled z-score statistics: row count, per-feature mean and unbiased (N − 1) standard deviation. */
interface PooledNormalization {
  readonly n: number;
  readonly mean: number[];
  readonly std: number[];
}

/**
 * Z-score statistics from a cohort's summed [N, Σx per feature, Σx² per feature] (the decoded secure sum of
 * federated normalisation): mean Σx/N and the unbiased (N − 1) standard deviation, as if all the cohort's train
 * rows were pooled. Throws `CONFIG_INVALID` on a vector of the wrong length or without rows.
 */
export function normalizationFromSums(sum: ArrayLike<number>, d: number): PooledNormalization {
  if (sum.length !== normalizationStatsLength(d))
    throw new TwinfedError(
      'CONFIG_INVALID',
      `The statistics have ${sum.length} values; ${d} features need ${normalizationStatsLength(d)}.`,
    );
  const n = Math.round(sum[0]!);
  if (!(n >= 1)) throw new TwinfedError('CONFIG_INVALID', 'The federated statistics count no training rows.');
  const mean: number[] = [];
  const std: number[] = [];
  for (let j = 0; j < d; j++) {
    const m = sum[1 + j]! / n;
    const ss = sum[1 + d + j]! - n * m * m;
    mean.push(m);
    std.push(n > 1 ? Math.sqrt(Math.max(0, ss) / (n - 1)) : 0);
  }
  return { n, mean, std };
}
