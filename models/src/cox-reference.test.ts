import { initialWeights, type CoxModelSpec, type TrainingConfig } from '@twinfed/shared';
import { ROSSI_FEATURES, loadRossi } from './__tests__/rossi';
import { initBackend } from './backend';
import { applyStandardizer, fitStandardizer, STD_EPSILON, type Split } from './dataset';
import { evaluateModel } from './predict';
import { createTrainer } from './train';

/**
 * lifelines' documented fit of `CoxPHFitter().fit(load_rossi(), 'week', 'arrest')` (docs "Survival Regression",
 * Efron ties): coefficients per unnormalised covariate, and the partial log-likelihood −658.748 over 432 rows.
 */
const LIFELINES = { fin: -0.379, age: -0.057, race: 0.314, wexp: -0.15, mar: -0.434, paro: -0.085, prio: 0.091 };
const LIFELINES_LOG_LIKELIHOOD = -658.748;

/**
 * Full-batch gradient descent on z-scored inputs (100 steps at lr 2 converge to 4 decimals: the loss is the mean
 * over the rows, whose curvature is below 1 once the inputs are z-scored), then the coefficients converted back to
 * raw units (β / σ).
 */
async function fitRossi(
  ties: 'breslow' | 'efron',
): Promise<{ coefficients: number[]; data: Split; weights: Float32Array }> {
  const raw = loadRossi();
  const stats = fitStandardizer(raw);
  const data = applyStandardizer(raw, stats);
  const spec: CoxModelSpec = { kind: 'cox', inputs: ROSSI_FEATURES.length, ties, horizonDays: 52 };
  const training: TrainingConfig = { steps: 100, batchSize: data.n, optimizer: 'sgd', lr: 2 };
  const trainer = await createTrainer({ spec, data, training, seed: 1 });
  const { weights } = await trainer.trainRound({ weights: initialWeights(spec, 42) });
  trainer.dispose();
  const coefficients = ROSSI_FEATURES.map((_, j) => weights.data[j]! / (stats.std[j]! + STD_EPSILON));
  return { coefficients, data, weights: weights.data };
}

beforeAll(() => initBackend({ prefer: 'cpu' }));

describe('Cox reference: the Rossi recidivism data against lifelines', () => {
  test('the data: 432 rows, 114 arrests, times in weeks', () => {
    const raw = loadRossi();
    expect(raw.n).toBe(432);
    expect(raw.rejected).toEqual([]);
    expect(raw.y.reduce((a, b) => a + b, 0)).toBe(114);
    expect(Math.max(...raw.time!)).toBe(52);
  });

  test('Efron ties: every coefficient equals lifelines’ published one to 2 decimals, and so does the log-likelihood', async () => {
    const { coefficients, data, weights } = await fitRossi('efron');
    ROSSI_FEATURES.forEach((name, j) => expect(coefficients[j]!).toBeCloseTo(LIFELINES[name], 2));
    const spec: CoxModelSpec = { kind: 'cox', inputs: 7, ties: 'efron', horizonDays: 52 };
    const e = await evaluateModel({ spec, weights: { ...initialWeights(spec, 42), data: weights }, data });
    if (!('cIndex' in e)) throw new Error('expected a survival evaluation');
    // evaluate reports the loss per row; lifelines the total log-likelihood.
    expect(-e.loss * data.n).toBeCloseTo(LIFELINES_LOG_LIKELIHOOD, 1);
    // lifelines reports a concordance of 0.640 for this fit.
    expect(e.cIndex).toBeCloseTo(0.64, 2);
  }, 120_000);

  test('Breslow ties (the default) give the same coefficients to 2 decimals on these data', async () => {
    const { coefficients } = await fitRossi('breslow');
    ROSSI_FEATURES.forEach((name, j) => expect(coefficients[j]!).toBeCloseTo(LIFELINES[name], 2));
  }, 120_000);
});
