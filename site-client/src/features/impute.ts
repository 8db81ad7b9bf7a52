import { featureColumns, type FeatureDerivation } from '@twinfed/shared';
import type { DerivedRow } from './derive';

/** Options of {@link fitFillValues}. */
interface FitFillOptions {
  /** Derived rows (see `deriveFeatures`) whose observed values give the `mean` statistics. */
  rows: readonly DerivedRow[];
  derivations: readonly FeatureDerivation[];
  /** Federated statistics: one mean per column, used instead of the rows' own means when given. */
  means?: readonly number[];
}

/**
 * The value that replaces a missing entry, one per column: 0 (`zero`), the policy's `value` (`value`, and
 * `indicator` when it gives one), else the mean of the column's observed values in `rows` (or `means[j]`
 * when federated statistics are given; 0 when no row observed the column). Indicator columns are never
 * missing; their fill is 0.
 */
export function fitFillValues(options: FitFillOptions): number[] {
  const { rows, derivations, means } = options;
  const columns = featureColumns(derivations);
  if (means !== undefined && means.length !== columns.length)
    throw new RangeError(`${means.length} federated means for ${columns.length} columns`);
  return columns.map((col, j) => {
    if (col.role === 'indicator') return 0;
    const { policy, value } = col.derivation.missing;
    if (policy === 'zero') return 0;
    if (value !== undefined && (policy === 'value' || policy === 'indicator')) return value;
    if (means !== undefined) return means[j]!;
    let sum = 0;
    let count = 0;
    for (const row of rows) {
      if (row.missing[j]) continue;
      sum += row.values[j]!;
      count++;
    }
    return count > 0 ? sum / count : 0;
  });
}

/** A copy of a derived row's values with every missing entry replaced by its column's fill value. */
export function imputeRow(row: DerivedRow, fill: readonly number[]): Float64Array {
  if (fill.length !== row.values.length)
    throw new RangeError(`${fill.length} fill values for ${row.values.length} columns`);
  const out = Float64Array.from(row.values);
  for (let j = 0; j < out.length; j++) if (row.missing[j]) out[j] = fill[j]!;
  return out;
}
