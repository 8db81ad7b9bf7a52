import { initialWeights, layoutOf, SeededRandom, type ModelSpec } from '@twinfed/shared';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend';
import { explain } from './explain';
import { forwardLogits, weightTensors } from './model';
import { shapleyValues, type BatchScorer } from './shapley';

beforeAll(() => initBackend({ prefer: 'cpu' }));

/** A scorer from a plain function of one row, counting the rows it scores. */
function scorerOf(f: (row: Float32Array) => number, d: number): BatchScorer & { rows: number } {
  const scorer = Object.assign(
    async (x: Float32Array, n: number) => {
      scorer.rows += n;
      return Float32Array.from({ length: n }, (_, i) => f(x.subarray(i * d, (i + 1) * d)));
    },
    { rows: 0 },
  );
  return scorer;
}

function randomRows(n: number, d: number, seed: number): Float32Array {
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: n * d }, () => rng.normal());
}

const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0);

/** Log-odds of a model for rows `[n, d]`, through tfjs. */
async function logits(spec: ModelSpec, weights: ReturnType<typeof initialWeights>, x: Float32Array, n: number) {
  const params = weightTensors(weights);
  const out = tf.tidy(() => forwardLogits(spec, params, tf.tensor2d(x, [n, spec.inputs])));
  const values = Array.from(await out.data());
  tf.dispose([out, ...params]);
  return values;
}

describe('exact Shapley values', () => {
  // f(x) = 2·x0·x1 + 3·x2 (+ 0·x3): x0 and x1 are symmetric, x3 is a dummy.
  const f = (r: Float32Array): number => 2 * r[0]! * r[1]! + 3 * r[2]!;

  test('a hand-made model: the interaction splits evenly, the dummy gets zero, and the values add up', async () => {
    const score = scorerOf(f, 4);
    const out = await shapleyValues({ score, x: Float32Array.from([1, 1, 2, 5]), background: new Float32Array(4) });
    // Against a zero baseline: v({0,1}) = 2 is shared equally, x2 adds 3·2 alone.
    expect(Array.from(out.contributions)).toEqual([1, 1, 6, 0]);
    expect(out).toMatchObject({ base: 0, value: 8, method: 'exact' });
    expect(score.rows).toBe(2 ** 4);
  });

  test('symmetry, dummy and additivity hold against a random background that treats x0 and x1 alike', async () => {
    // Symmetry needs a symmetric game: the background too has equal values in x0 and x1.
    const background = randomRows(7, 4, 1);
    for (let k = 0; k < 7; k++) background[k * 4 + 1] = background[k * 4]!;
    const x = Float32Array.from([0.7, 0.7, -1.2, 3]);
    const out = await shapleyValues({ score: scorerOf(f, 4), x, background });
    const [p0, p1, , p3] = Array.from(out.contributions);
    expect(p0).toBeCloseTo(p1!, 10);
    expect(p3).toBeCloseTo(0, 10);
    expect(sum(out.contributions) + out.base).toBeCloseTo(f(x), 5);
    const fb = Array.from({ length: 7 }, (_, k) => f(background.subarray(k * 4, (k + 1) * 4)));
    expect(out.base).toBeCloseTo(sum(fb) / 7, 5);
  });

  test('on a logistic regression they are weight × (value − background mean), and sum to logit(x) − base', async () => {
    const spec: ModelSpec = { kind: 'logistic-regression', inputs: 5 };
    const weights = { layout: layoutOf(spec), data: Float32Array.from([0.5, -2, 1, 0.3, 0, 0.7]) };
    const x = Float32Array.from([1, 0.25, -3, 2, 9]);
    const background = randomRows(16, 5, 2);
    const out = await explain({
      spec,
      weights,
      x,
      featureNames: ['a', 'b', 'c', 'd', 'e'],
      method: 'shapley',
      background,
    });
    out.forEach((c) => {
      const j = c.feature.charCodeAt(0) - 97;
      let mean = 0;
      for (let k = 0; k < 16; k++) mean += background[k * 5 + j]! / 16;
      expect(c.contribution).toBeCloseTo(weights.data[j]! * (x[j]! - mean), 4);
    });
    const [fx, ...fb] = await logits(spec, weights, Float32Array.from([...x, ...background]), 17);
    expect(sum(out.map((c) => c.contribution)) + sum(fb) / 16).toBeCloseTo(fx!, 4);
  });

  test('an MLP is explained with Shapley values by default: exactly additive, batched, no tensor left behind', async () => {
    const spec: ModelSpec = { kind: 'mlp', inputs: 6, hidden: [8, 4], activation: 'tanh' };
    const weights = initialWeights(spec, 5);
    const x = randomRows(1, 6, 3);
    const background = randomRows(10, 6, 4);
    const before = tf.memory().numTensors;
    const out = await explain({ spec, weights, x, featureNames: ['a', 'b', 'c', 'd', 'e', 'f'], background });
    expect(tf.memory().numTensors).toBe(before);
    const [fx, ...fb] = await logits(spec, weights, Float32Array.from([...x, ...background]), 11);
    expect(sum(out.map((c) => c.contribution)) + sum(fb) / 10).toBeCloseTo(fx!, 4);
    // The contributions are not integrated gradients' (a different baseline and method).
    const ig = await explain({
      spec,
      weights,
      x,
      featureNames: ['a', 'b', 'c', 'd', 'e', 'f'],
      method: 'integrated-gradients',
    });
    expect(ig.map((c) => c.contribution)).not.toEqual(out.map((c) => c.contribution));
  });

  test('the batch size changes nothing', async () => {
    const score = (x: Float32Array, n: number) =>
      Promise.resolve(
        Float32Array.from({ length: n }, (_, i) => Math.sin(x[i * 3]! * x[i * 3 + 1]!) + x[i * 3 + 2]! ** 2),
      );
    const x = Float32Array.from([0.3, -1, 2]);
    const background = randomRows(5, 3, 6);
    const whole = await shapleyValues({ score, x, background });
    const small = await shapleyValues({ score, x, background, batchRows: 7 });
    expect(Array.from(small.contributions)).toEqual(Array.from(whole.contributions));
  });
});

describe('sampled Shapley values', () => {
  test('beyond 16 features: additive, and exact on an additive model', async () => {
    const d = 20;
    const w = Float32Array.from({ length: d }, (_, j) => (j % 3) - 1 + j / 10);
    const score = scorerOf((r) => sum(r.map((v, j) => w[j]! * v)), d);
    const x = randomRows(1, d, 7);
    const background = randomRows(8, d, 8);
    const out = await shapleyValues({ score, x, background, permutations: 6 });
    expect(out.method).toBe('sampling');
    expect(score.rows).toBe(6 * 8 * (d + 1) + 1);
    for (let j = 0; j < d; j++) {
      let mean = 0;
      for (let k = 0; k < 8; k++) mean += background[k * d + j]! / 8;
      expect(out.contributions[j]).toBeCloseTo(w[j]! * (x[j]! - mean), 4);
    }
    expect(sum(out.contributions) + out.base).toBeCloseTo(out.value, 4);
  });

  test('on an MLP they approach the exact values and stay exactly additive', async () => {
    const spec: ModelSpec = { kind: 'mlp', inputs: 8, hidden: [16], activation: 'relu' };
    const weights = initialWeights(spec, 11);
    const params = weightTensors(weights);
    const score: BatchScorer = async (rows, n) => {
      const out = tf.tidy(() => forwardLogits(spec, params, tf.tensor2d(rows, [n, 8])));
      const values = (await out.data()) as Float32Array;
      out.dispose();
      return values;
    };
    const x = randomRows(1, 8, 9);
    const background = randomRows(12, 8, 10);
    const exact = await shapleyValues({ score, x, background });
    const sampled = await shapleyValues({ score, x, background, method: 'sampling', permutations: 400, seed: 3 });
    tf.dispose(params);
    expect(sum(sampled.contributions) + sampled.base).toBeCloseTo(sampled.value, 4);
    expect(sampled.base).toBeCloseTo(exact.base, 5);
    const scale = Math.max(...Array.from(exact.contributions, Math.abs));
    const worst = Math.max(...Array.from(exact.contributions, (e, j) => Math.abs(e - sampled.contributions[j]!)));
    expect(worst).toBeLessThan(0.05 * scale);
  });

  test('are reproducible from their seed', async () => {
    const score = scorerOf((r) => r[0]! * r[1]! * r[2]! + r[3]!, 4);
    const x = Float32Array.from([1, 2, 3, 4]);
    const background = randomRows(3, 4, 12);
    const a = await shapleyValues({ score, x, background, method: 'sampling', permutations: 4, seed: 1 });
    const b = await shapleyValues({ score, x, background, method: 'sampling', permutations: 4, seed: 1 });
    expect(Array.from(a.contributions)).toEqual(Array.from(b.contributions));
  });
});

test('bad requests are refused', async () => {
  const score = scorerOf((r) => r[0]!, 2);
  const x = Float32Array.from([1, 2]);
  await expect(shapleyValues({ score, x, background: new Float32Array(3) })).rejects.toMatchObject({
    code: 'BAD_REQUEST',
  });
  await expect(shapleyValues({ score, x, background: new Float32Array(0) })).rejects.toMatchObject({
    code: 'BAD_REQUEST',
  });
  await expect(shapleyValues({ score, x, background: new Float32Array(2), batchRows: 0 })).rejects.toMatchObject({
    code: 'BAD_REQUEST',
  });
  await expect(
    shapleyValues({ score, x, background: new Float32Array(2), method: 'sampling', permutations: 0 }),
  ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  await expect(
    shapleyValues({ score, x: new Float32Array(17), background: new Float32Array(17), method: 'exact' }),
  ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  const spec: ModelSpec = { kind: 'mlp', inputs: 2, hidden: [2], activation: 'relu' };
  await expect(explain({ spec, weights: initialWeights(spec, 0), x, featureNames: ['a', 'b'] })).rejects.toMatchObject({
    code: 'BAD_REQUEST',
  });
});
