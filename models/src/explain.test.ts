import * as tf from '@tensorflow/tfjs';
import { initialWeights, layoutOf, type ModelSpec } from '@twinfed/shared';
import { initBackend } from './backend';
import { explain } from './explain';
import { modelOutputs, predict } from './predict';

const names = ['a', 'b', 'c'];
const lr: ModelSpec = { kind: 'logistic-regression', inputs: 3 };
const lrWeights = { layout: layoutOf(lr), data: Float32Array.from([0.5, -2, 1, 0.3]) };
const x = Float32Array.from([1, 0.25, -3]);
const logit = (p: number): number => Math.log(p / (1 - p));

beforeAll(() => initBackend({ prefer: 'cpu' }));

describe('explain', () => {
  test('linear model: weight × value, sorted by |contribution|', async () => {
    const out = await explain({ spec: lr, weights: lrWeights, x, featureNames: names });
    expect(out).toEqual([
      { feature: 'c', value: -3, contribution: -3 },
      { feature: 'a', value: 1, contribution: 0.5 },
      { feature: 'b', value: 0.25, contribution: -0.5 },
    ]);
  });

  test('integrated gradients reduce to weight × value on a linear model', async () => {
    const ig = await explain({
      spec: lr,
      weights: lrWeights,
      x,
      featureNames: names,
      method: 'integrated-gradients',
      steps: 8,
    });
    const lin = await explain({ spec: lr, weights: lrWeights, x, featureNames: names });
    ig.forEach((c, i) => {
      expect(c.feature).toBe(lin[i]!.feature);
      expect(c.contribution).toBeCloseTo(lin[i]!.contribution, 5);
    });
  });

  test('MLP integrated gradients are complete: they sum to logit(x) − logit(0)', async () => {
    const before = tf.memory().numTensors;
    const spec: ModelSpec = { kind: 'mlp', inputs: 3, hidden: [8, 4], activation: 'tanh' };
    const weights = initialWeights(spec, 3);
    const out = await explain({ spec, weights, x, featureNames: names, method: 'integrated-gradients', steps: 64 });
    const [px, p0] = Array.from(await predict({ spec, weights, x: Float32Array.from([...x, 0, 0, 0]), n: 2 }));
    const total = out.reduce((s, c) => s + c.contribution, 0);
    expect(total).toBeCloseTo(logit(px!) - logit(p0!), 3);
    expect(out.map((c) => Math.abs(c.contribution))).toEqual(
      [...out.map((c) => Math.abs(c.contribution))].sort((a, b) => b - a),
    );
    expect(out.map((c) => c.feature).sort()).toEqual(names);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('linear Cox model: coefficient × value, as logistic regression', async () => {
    const cox: ModelSpec = { kind: 'cox', inputs: 3, ties: 'breslow', horizonDays: 365 };
    const out = await explain({ spec: cox, weights: { ...lrWeights, layout: layoutOf(cox) }, x, featureNames: names });
    expect(out).toEqual(await explain({ spec: lr, weights: lrWeights, x, featureNames: names }));
  });

  test('Cox MLP integrated gradients sum to η(x) − η(0), the log relative hazard against the mean patient', async () => {
    const spec: ModelSpec = {
      kind: 'cox-mlp',
      inputs: 3,
      hidden: [6],
      activation: 'tanh',
      ties: 'efron',
      horizonDays: 30,
    };
    const weights = initialWeights(spec, 5);
    const out = await explain({ spec, weights, x, featureNames: names, method: 'integrated-gradients', steps: 64 });
    const [ex, e0] = Array.from(await modelOutputs({ spec, weights, x: Float32Array.from([...x, 0, 0, 0]), n: 2 }));
    expect(out.reduce((s, c) => s + c.contribution, 0)).toBeCloseTo(ex! - e0!, 3);
  });

  test('rejects bad requests', async () => {
    const spec: ModelSpec = { kind: 'mlp', inputs: 3, hidden: [2], activation: 'relu' };
    await expect(
      explain({ spec, weights: initialWeights(spec, 0), x, featureNames: names, method: 'linear' }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(
      explain({ spec: lr, weights: lrWeights, x: new Float32Array(2), featureNames: names }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(
      explain({ spec: lr, weights: lrWeights, x, featureNames: names, method: 'integrated-gradients', steps: 0 }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
