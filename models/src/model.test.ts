import * as tf from '@tensorflow/tfjs';
import { initialWeights, layoutOf, type ModelSpec } from '@twinfed/shared';
import { initBackend } from './backend';
import { createModel } from './model';

const mlp: ModelSpec = { kind: 'mlp', inputs: 3, hidden: [4, 2], activation: 'tanh' };

beforeAll(() => initBackend({ prefer: 'cpu' }));

describe('createModel', () => {
  test('has one variable per layer ([kernel; bias] stacked), and round-trips weights in layout order', () => {
    const w = initialWeights(mlp, 7);
    const model = createModel({ spec: mlp, weights: w });
    expect(layoutOf(mlp).map((t) => [...t.shape])).toEqual([[3, 4], [4], [4, 2], [2], [2, 1], [1]]);
    expect(model.variables.map((v) => v.shape)).toEqual([
      [4, 4],
      [5, 2],
      [3, 1],
    ]);
    // Layer 0's stacked variable: rows 0-2 are the kernel, row 3 the bias, i.e. the first 16 layout values.
    expect(Array.from(model.variables[0]!.dataSync())).toEqual(Array.from(w.data.subarray(0, 16)));
    expect(model.getWeights().data).toEqual(w.data);
    const w2 = initialWeights(mlp, 8);
    model.setWeights(w2);
    expect(model.getWeights().data).toEqual(w2.data);
    model.dispose();
  });

  test('computes logistic regression as x·w + b', () => {
    const spec: ModelSpec = { kind: 'logistic-regression', inputs: 2 };
    const model = createModel({ spec, weights: { layout: layoutOf(spec), data: Float32Array.from([2, -1, 0.5]) } });
    const z = tf.tidy(() =>
      model
        .logits(
          tf.tensor2d([
            [1, 1],
            [3, 2],
          ]),
        )
        .dataSync(),
    );
    expect(Array.from(z)).toEqual([1.5, 4.5]);
    model.dispose();
  });

  test('computes an MLP layer by layer (row-major kernels [fanIn, units])', () => {
    const spec: ModelSpec = { kind: 'mlp', inputs: 2, hidden: [2], activation: 'relu' };
    // hidden kernel [[1,-1],[2,1]], bias [0,-10]; output kernel [[3],[5]], bias [1]
    const data = Float32Array.from([1, -1, 2, 1, 0, -10, 3, 5, 1]);
    const model = createModel({ spec, weights: { layout: layoutOf(spec), data } });
    const z = tf.tidy(() => model.logits(tf.tensor2d([[1, 2]])).dataSync());
    // h = relu([1+4, -1+2-10]) = [5, 0]; z = 15 + 0 + 1
    expect(Array.from(z)).toEqual([16]);
    const za = tf.tidy(() => model.logits(tf.tensor2d([[1, 2, 1]]), { augmented: true }).dataSync());
    expect(Array.from(za)).toEqual([16]);
    model.dispose();
  });

  test('rejects weights of another layout or with NaN, and leaves no tensors behind', () => {
    const before = tf.memory().numTensors;
    const model = createModel({ spec: mlp, seed: 1 });
    const lr: ModelSpec = { kind: 'logistic-regression', inputs: 3 };
    expect(() => model.setWeights(initialWeights(lr, 1))).toThrow(expect.objectContaining({ code: 'INVALID_WEIGHTS' }));
    const bad = initialWeights(mlp, 1);
    bad.data[3] = NaN;
    expect(() => model.setWeights(bad)).toThrow(expect.objectContaining({ code: 'NON_FINITE_WEIGHTS' }));
    for (let i = 0; i < 5; i++) model.setWeights(initialWeights(mlp, i));
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
