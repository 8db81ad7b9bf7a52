import { fitStandardizer, STD_EPSILON, type Standardizer } from '@twinfed/models';
import type { FeatureDerivation, Plan } from '@twinfed/shared';
import type { DerivedRow } from '../features/derive';
import { fitFillValues, imputeRow } from '../features/impute';

/**
 * How derived rows become model inputs: missing values filled, then z-scored when the plan normalises.
 * Scoring must apply the same preprocessing training did, so a site passes the statistics of its training
 * data when it has them.
 */
export interface Preprocessing {
  /** One fill value per column (see `fitFillValues`). */
  readonly fill: readonly number[];
  /** Z-score statistics per column; null when the plan's normalisation is `none`. */
  readonly standardizer: Standardizer | null;
}

/** Options of {@link fitPreprocessing}. */
interface FitPreprocessingOptions {
  rows: readonly DerivedRow[];
  derivations: readonly FeatureDerivation[];
  normalization: Plan['data']['normalization'];
  /** Federated statistics for the `mean` policy (see `fitFillValues`). */
  means?: readonly number[];
}

/**
 * Fill values and (unless the plan says `none`) z-score statistics of the given rows. `federated`
 * normalisation without federated statistics falls back to the rows' own, like training does.
 */
export function fitPreprocessing(options: FitPreprocessingOptions): Preprocessing {
  const { rows, derivations, normalization } = options;
  const fill = fitFillValues({ rows, derivations, ...(options.means ? { means: options.means } : {}) });
  if (normalization === 'none' || rows.length === 0) return { fill, standardizer: null };
  const d = fill.length;
  const x = new Float64Array(rows.length * d);
  rows.forEach((row, i) => x.set(imputeRow(row, fill), i * d));
  return { fill, standardizer: fitStandardizer({ x, n: rows.length, d }) };
}

/** One row's model input: filled, then z-scored as in training (`(x − mean) / (std + 1e-9)`). */
export function modelInput(row: DerivedRow, pre: Preprocessing): Float64Array {
  const out = imputeRow(row, pre.fill);
  const s = pre.standardizer;
  if (s) for (let j = 0; j < out.length; j++) out[j] = (out[j]! - s.mean[j]!) / (s.std[j]! + STD_EPSILON);
  return out;
}
