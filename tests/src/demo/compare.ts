import { createTrainer, evaluate, type ClientDataset, type Split } from '@twinfed/models';
import { initialWeights, type ModelSpec, type TrainingConfig, type WeightSet } from '@twinfed/shared';

/** Accuracy and AUC of one model on one or more test sets (unweighted mean over the sets, as FLamby reports). */
export interface Score {
  accuracy: number;
  auc: number;
}

/** One site's comparison on the other sites' test data. */
export interface SiteComparison {
  site: string;
  federated: Score;
  localOnly: Score;
}

/** FLamby's "Local i" recipe: Adam, lr 1e-3, batch 4, 50 epochs on the site's own train rows. */
const LOCAL_ONLY_TRAINING: TrainingConfig = { epochs: 50, batchSize: 4, optimizer: 'adam', lr: 0.001 };

async function scoreOn(spec: ModelSpec, weights: WeightSet, tests: ClientDataset[]): Promise<Score> {
  let accuracy = 0;
  let auc = 0;
  let aucSets = 0;
  for (const t of tests) {
    const e = await evaluate({ spec, weights, data: t.test });
    accuracy += e.accuracy;
    // AUC is undefined on a one-class test set: such a set is left out of the AUC mean.
    if (!Number.isNaN(e.auc)) {
      auc += e.auc;
      aucSets++;
    }
  }
  return { accuracy: accuracy / tests.length, auc: aucSets ? auc / aucSets : Number.NaN };
}

/**
 * The demo's final comparison, computed where all four test sets are at hand (the demo harness, never a
 * site): for each site, its local-only model and the federated global model, both scored on the OTHER
 * sites' test data. A local-only model is what a hospital gets without the consortium.
 */
export async function compareWithLocalOnly(opts: {
  spec: ModelSpec;
  federated: WeightSet;
  datasets: ClientDataset[];
  seed: number;
  names?: (ds: ClientDataset) => string;
}): Promise<SiteComparison[]> {
  const out: SiteComparison[] = [];
  for (const ds of opts.datasets) {
    const others = opts.datasets.filter((o) => o.center !== ds.center);
    const local = await trainFromInitial({
      spec: opts.spec,
      data: ds.train,
      training: LOCAL_ONLY_TRAINING,
      seed: opts.seed,
    });
    out.push({
      site: opts.names?.(ds) ?? ds.name,
      federated: await scoreOn(opts.spec, opts.federated, others),
      localOnly: await scoreOn(opts.spec, local, others),
    });
  }
  return out;
}

/**
 * One training run of `training` on `data` from the initial model of `initSeed` (default: `seed`, the trainer's
 * seed); the trainer is disposed before returning.
 */
export async function trainFromInitial(opts: {
  spec: ModelSpec;
  data: Split;
  training: TrainingConfig;
  seed: number;
  initSeed?: number;
}): Promise<WeightSet> {
  const trainer = await createTrainer({ spec: opts.spec, data: opts.data, training: opts.training, seed: opts.seed });
  try {
    return (await trainer.trainRound({ weights: initialWeights(opts.spec, opts.initSeed ?? opts.seed) })).weights;
  } finally {
    trainer.dispose();
  }
}

/** Unweighted mean of scores. */
export function meanScore(scores: Score[]): Score {
  const n = Math.max(1, scores.length);
  return { accuracy: scores.reduce((a, s) => a + s.accuracy, 0) / n, auc: scores.reduce((a, s) => a + s.auc, 0) / n };
}
