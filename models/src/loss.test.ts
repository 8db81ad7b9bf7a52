import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend';
import { bceWithLogits } from './loss';

beforeAll(() => initBackend({ prefer: 'cpu' }));

describe('bceWithLogits', () => {
  test('equals the textbook BCE of sigmoid(z), stably for large |z|', () => {
    const z = [-3, -0.5, 0, 2, 40, -40];
    const y = [0, 1, 1, 0, 1, 0];
    const expected =
      z.reduce((s, zi, i) => {
        const p = 1 / (1 + Math.exp(-zi));
        return s - (y[i] === 1 ? Math.log(p) : Math.log(1 - p));
      }, 0) / z.length;
    const value = tf.tidy(() => bceWithLogits(tf.tensor2d(z, [6, 1]), tf.tensor2d(y, [6, 1])).dataSync()[0]!);
    expect(value).toBeCloseTo(expected, 5);
    const big = tf.tidy(() => bceWithLogits(tf.tensor2d([100], [1, 1]), tf.tensor2d([0], [1, 1])).dataSync()[0]!);
    expect(big).toBeCloseTo(100, 4);
  });

  test('has gradient (sigmoid(z) − y) / n with respect to z, matching autodiff of the formula', () => {
    const z = tf.tensor2d([-1, 0.5, 2], [3, 1]);
    const y = tf.tensor2d([1, 0, 1], [3, 1]);
    const ours = tf
      .grad((t: tf.Tensor) => bceWithLogits(t, y))(z)
      .dataSync();
    const auto = tf
      .grad((t: tf.Tensor) => tf.mean(tf.sub(tf.softplus(t), tf.mul(t, y))))(z)
      .dataSync();
    const hand = [-1, 0.5, 2].map((v, i) => (1 / (1 + Math.exp(-v)) - [1, 0, 1][i]!) / 3);
    Array.from(ours).forEach((g, i) => {
      expect(g).toBeCloseTo(auto[i]!, 6);
      expect(g).toBeCloseTo(hand[i]!, 6);
    });
    tf.dispose([z, y]);
  });
});
