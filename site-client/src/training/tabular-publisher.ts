import type { ModelStore } from './model-store';
import type { VersionHook } from './runner-options';

/**
 * What a tabular site (`run --data` / `--heart-disease`) does with each published version it verified: keeps it as
 * the federation's latest verified model with the z-score statistics training used (the site's own under per-site
 * normalisation, the cohort's pooled ones under federated), so `twinfed-site export` can write a bundle that applies
 * correctly. Nothing leaves the site. The initial version (round 0, untrained) is skipped.
 */
export function tabularVersionHook(options: { federationId: string; models: ModelStore }): VersionHook {
  return async ({ model, plan, standardizer }) => {
    if (model.meta.round === 0) return;
    const preprocessing = {
      fill: [],
      standardizer: standardizer ? { mean: [...standardizer.mean], std: [...standardizer.std] } : null,
    };
    options.models.save({ federationId: options.federationId, model, plan, preprocessing, at: null });
  };
}
