import { applyStandardizer, fitStandardizer } from '@twinfed/models';
import type { LocalDataset } from './dataset';

/** Normalisation policies of a plan (`plan.data.normalization`). */
export type Normalization = 'none' | 'per-site' | 'federated';

/**
 * Applies a normalisation policy to a local dataset. `per-site` z-scores train and test with the site's own
 * train statistics (FLamby's per-client recipe; the test split never leaks into them). `none` returns the
 * dataset unchanged. `federated` needs pooled statistics the protocol does not carry yet: the caller decides
 * how to fall back (the runner uses `per-site` and warns).
 */
export function normalizeDataset(dataset: LocalDataset, policy: Exclude<Normalization, 'federated'>): LocalDataset {
  if (policy === 'none') return dataset;
  const stats = fitStandardizer(dataset.train);
  return { features: dataset.features, train: applyStandardizer(dataset.train, stats), test: applyStandardizer(dataset.test, stats) };
}
