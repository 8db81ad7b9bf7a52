import { applyStandardizer, fitStandardizer, type Standardizer } from '@twinfed/models';
import type { Normalization } from '@twinfed/shared';
import type { LocalDataset } from './dataset';

/**
 * Applies a normalisation policy to a local dataset. `per-site` z-scores train and test with the site's own
 * train statistics (FLamby's per-client recipe; the test split never leaks into them). `none` returns the
 * dataset unchanged. `federated` needs the cohort's pooled statistics from the secure sum (see `federated-stats.ts`);
 * apply them with {@link standardizeDataset}.
 */
export function normalizeDataset(dataset: LocalDataset, policy: Exclude<Normalization, 'federated'>): LocalDataset {
  if (policy === 'none') return dataset;
  const stats = fitStandardizer(dataset.train);
  return {
    features: dataset.features,
    train: applyStandardizer(dataset.train, stats),
    test: applyStandardizer(dataset.test, stats),
  };
}

/** Z-scores train and test with given statistics (e.g. the federation's pooled ones from the secure sum). */
export function standardizeDataset(dataset: LocalDataset, stats: Standardizer): LocalDataset {
  return {
    features: dataset.features,
    train: applyStandardizer(dataset.train, stats),
    test: applyStandardizer(dataset.test, stats),
  };
}
