import { applyStandardizer, createTrainer, evaluate, fitStandardizer } from '@twinfed/models';
import { initialWeights, SeededRandom, type ModelSpec, type WeightSet } from '@twinfed/shared';
import type { Split } from '@twinfed/models';
import { buildDataset } from '../features/dataset';
import { generateCohort } from './cohort';
import { twinScenarioPlan } from './plan';
import { cohortTwins } from './twins';

/** The scenario's signal is learnable and transfers: a model from one hospital ranks another's patients. */
describe('the twin scenario is learnable', () => {
  const plan = twinScenarioPlan();
  const siteData = (profile: 'urban-teaching' | 'rural-elderly' | 'oncology-center', seed: number) => {
    const cohort = generateCohort({ patients: 1000, profile, seed, start: '2024-01-01T00:00:00Z', days: 30 });
    const data = buildDataset({ twins: cohortTwins(cohort), plan, at: cohort.at });
    return { data: applyStandardizer(data, fitStandardizer(data)), excluded: data.excluded };
  };

  const fit = async (spec: ModelSpec, data: Split): Promise<WeightSet> => {
    const trainer = await createTrainer({
      spec,
      data,
      training: { epochs: 10, batchSize: 32, optimizer: 'adam', lr: 0.02 },
      seed: 1,
    });
    const { weights } = await trainer.trainRound({ weights: initialWeights(spec, 1) });
    trainer.dispose();
    return weights;
  };

  test('a logistic regression trained at one hospital reaches AUC > 0.65 at two others', async () => {
    const train = siteData('urban-teaching', 21);
    expect(train.excluded.consent).toBeGreaterThan(0); // refused and withdrawn consents stay out
    const weights = await fit(plan.model, train.data);
    const others = [siteData('rural-elderly', 22).data, siteData('oncology-center', 23).data];
    for (const data of others) {
      const e = await evaluate({ spec: plan.model, weights, data });
      expect(e.auc).toBeGreaterThan(0.65);
    }
    // Control: the same training on shuffled labels learns nothing that transfers, so the bar can be missed.
    const shuffled = { ...train.data, y: Float32Array.from(new SeededRandom(3).shuffle(Array.from(train.data.y))) };
    const control = await evaluate({ spec: plan.model, weights: await fit(plan.model, shuffled), data: others[0]! });
    expect(control.auc).toBeLessThan(0.65);
  });
});
