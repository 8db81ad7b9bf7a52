import * as tf from '@tensorflow/tfjs';
import { initialWeights, layoutOf, type ModelSpec } from '@twinfed/shared';
import { initBackend } from './backend';
import { breslowBaseline, riskAtHorizon } from './breslow';
import {
  coxBaseline,
  evaluate,
  evaluateModel,
  evaluationMetrics,
  modelOutputs,
  predict,
  predictCoxRisk,
} from './predict';

const spec: ModelSpec = { kind: 'logistic-regression', inputs: 2 };
const weights = { layout: layoutOf(spec), data: Float32Array.from([1, -1, 0]) };
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

beforeAll(() => initBackend({ prefer: 'wasm' }));

describe('predict / evaluate', () => {
  test('returns sigmoid(x·w + b) per row', async () => {
    const p = await predict({ spec, weights, x: Float32Array.from([2, 0, 0, 3, 1, 1]), n: 3 });
    expect(Array.from(p).map((v) => +v.toFixed(6))).toEqual([sigmoid(2), sigmoid(-3), 0.5].map((v) => +v.toFixed(6)));
    expect(await predict({ spec, weights, x: new Float32Array(0), n: 0 })).toEqual(new Float32Array(0));
  });

  test('scores a data set (hand-computed) and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    // p = [σ(2), σ(-3), 0.5, σ(1)] for labels [1, 0, 1, 0]: 0.5 counts as negative.
    const ev = await evaluate({
      spec,
      weights,
      data: { x: Float32Array.from([2, 0, 0, 3, 1, 1, 1, 0]), y: Float32Array.from([1, 0, 1, 0]), n: 4, d: 2 },
    });
    expect(ev.n).toBe(4);
    expect(ev.accuracy).toBe(0.5);
    expect(ev.auc).toBeCloseTo(0.75, 6); // positives 0.88, 0.5 vs negatives 0.05, 0.73: 3 of 4 pairs
    const p = [sigmoid(2), sigmoid(-3), 0.5, sigmoid(1)];
    expect(ev.brier).toBeCloseTo(((1 - p[0]!) ** 2 + p[1]! ** 2 + 0.25 + p[3]! ** 2) / 4, 6);
    expect(ev.loss).toBeCloseTo(-(Math.log(p[0]!) + Math.log(1 - p[1]!) + Math.log(0.5) + Math.log(1 - p[3]!)) / 4, 5);
    // One row per bin (0.05 → 0, 0.5 → 5, 0.73 → 7, 0.88 → 8): ECE is the mean |p − y|.
    expect(ev.calibration!.bins.map((b) => b.count)).toEqual([1, 0, 0, 0, 0, 1, 0, 1, 1, 0]);
    expect(ev.calibration!.bins[7]!.meanPredicted).toBeCloseTo(p[3]!, 6);
    expect(ev.calibration!.ece).toBeCloseTo((1 - p[0]! + p[1]! + 0.5 + p[3]!) / 4, 6);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('rejects mismatched inputs and weights', async () => {
    await expect(predict({ spec, weights, x: new Float32Array(3), n: 2 })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    const mlp: ModelSpec = { kind: 'mlp', inputs: 2, hidden: [3], activation: 'relu' };
    await expect(
      predict({ spec, weights: initialWeights(mlp, 0), x: new Float32Array(2), n: 1 }),
    ).rejects.toMatchObject({ code: 'INVALID_WEIGHTS' });
  });

  describe('a Cox model', () => {
    const cox: ModelSpec = { kind: 'cox', inputs: 2, ties: 'breslow', horizonDays: 2 };
    // The bias (7) is ignored: η = x·w.
    const coxWeights = { layout: layoutOf(cox), data: Float32Array.from([1, -1, 7]) };
    const data = {
      x: Float32Array.from([2, 0, 0, 3, 1, 1, 1, 0]),
      y: Float32Array.from([1, 1, 0, 1]),
      time: Float32Array.from([1, 2, 2, 3]),
      n: 4,
      d: 2,
    };

    test('outputs the log relative hazard without the bias, and reports the C-index and loss only', async () => {
      expect(Array.from(await modelOutputs({ spec: cox, weights: coxWeights, x: data.x, n: 4 }))).toEqual([
        2, -3, 0, 1,
      ]);
      const e = await evaluateModel({ spec: cox, weights: coxWeights, data });
      // comparable pairs: (row0, each of 1,2,3) concordant 3 of 3; (row1: t=2 event vs row2 censored at 2 and row3) η −3 < 0, 1: 0 of 2
      expect(evaluationMetrics(e)).toEqual({ cIndex: 3 / 5, loss: expect.any(Number) });
      await expect(predict({ spec: cox, weights: coxWeights, x: data.x, n: 4 })).rejects.toMatchObject({
        code: 'BAD_REQUEST',
      });
      await expect(
        evaluateModel({ spec: cox, weights: coxWeights, data: { ...data, time: undefined } }),
      ).rejects.toMatchObject({
        code: 'BAD_REQUEST',
      });
    });

    test('scores the risk within the horizon from a Breslow baseline of the rows', async () => {
      const baseline = await coxBaseline({ spec: cox, weights: coxWeights, data });
      expect(baseline).toEqual(breslowBaseline({ eta: [2, -3, 0, 1], time: data.time, event: data.y }));
      const risk = await predictCoxRisk({ spec: cox, weights: coxWeights, x: data.x, n: 4, baseline });
      const expected = riskAtHorizon([2, -3, 0, 1], baseline, 2);
      risk.forEach((r, i) => expect(r).toBeCloseTo(expected[i]!, 6));
      expect(risk[0]!).toBeGreaterThan(risk[3]!);
    });
  });
});
