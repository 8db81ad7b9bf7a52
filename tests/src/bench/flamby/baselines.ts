import { evaluate, loadHeartDisease, loadHeartDiseasePooled, type ClientDataset, type Split } from '@twinfed/models';
import { type ModelSpec, type TrainingConfig, type WeightSet } from '@twinfed/shared';
import { trainFromInitial } from '../../demo/compare';
import { FLAMBY_BATCH } from './methods';

/** FLamby's Pooled and Local i recipe (BENCHMARK.md §3): Adam, lr 1e-3, batch 4, 50 epochs. */
const BASELINE_TRAINING: TrainingConfig = { epochs: 50, batchSize: FLAMBY_BATCH, optimizer: 'adam', lr: 0.001 };

/** A model's accuracy and AUC on each of the four centers' test sets. */
export interface CenterScores {
  accuracy: number[];
  auc: number[];
}

/** Scores `weights` on each center's test rows (z-scored with that center's own train statistics, as FLamby does). */
async function scoreOnCenters(
  spec: ModelSpec,
  weights: WeightSet,
  centers: readonly ClientDataset[],
): Promise<CenterScores> {
  const accuracy: number[] = [];
  const auc: number[] = [];
  for (const c of centers) {
    const e = await evaluate({ spec, weights, data: c.test });
    accuracy.push(e.accuracy);
    auc.push(e.auc);
  }
  return { accuracy, auc };
}

async function trainCentral(opts: {
  spec: ModelSpec;
  data: Split;
  seed: number;
  trainerSeed: number;
}): Promise<WeightSet> {
  return trainFromInitial({
    spec: opts.spec,
    data: opts.data,
    training: BASELINE_TRAINING,
    seed: opts.trainerSeed,
    initSeed: opts.seed,
  });
}

/**
 * FLamby's "Pooled": all 486 train rows z-scored with pooled statistics, trained with the product's trainer
 * from the seed's initial model, then — FLamby's evaluation quirk (BENCHMARK.md §1.9) — scored on each center's
 * test set z-scored with that center's own statistics (`flamby`). `consistent` scores the same model on the test
 * sets z-scored with the pooled statistics it was trained with (the fair centralised reference, not in FLamby's table).
 */
export async function runPooled(opts: {
  spec: ModelSpec;
  seed: number;
  trainerSeed: number;
}): Promise<{ flamby: CenterScores; consistent: CenterScores }> {
  const pooled = loadHeartDiseasePooled();
  const weights = await trainCentral({ ...opts, data: pooled.train });
  return {
    flamby: await scoreOnCenters(opts.spec, weights, loadHeartDisease({ normalization: 'per-site' })),
    consistent: await scoreOnCenters(opts.spec, weights, loadHeartDisease({ normalization: 'federated' })),
  };
}

/** FLamby's "Local i": center i's train rows only (its own z-score), scored on all four centers' test sets. */
export async function runLocal(opts: {
  spec: ModelSpec;
  center: number;
  seed: number;
  trainerSeed: number;
}): Promise<CenterScores> {
  const centers = loadHeartDisease({ normalization: 'per-site' });
  const weights = await trainCentral({ ...opts, data: centers[opts.center]!.train });
  return scoreOnCenters(opts.spec, weights, centers);
}
