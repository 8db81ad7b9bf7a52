import * as tf from '@tensorflow/tfjs';
import { layoutOf, TwinfedError, type ModelSpec, type WeightSet } from '@twinfed/shared';
import { initBackend } from './backend';
import type { Split } from './dataset';
import {
  accuracy,
  brierScore,
  calibrationBins,
  expectedCalibrationError,
  logLoss,
  rocAuc,
  type CalibrationBin,
} from './metrics';
import { assertWeights, forwardLogits, weightTensors } from './model';

/** Options of {@link predict}: `x` is row-major `[n, spec.inputs]`. */
interface PredictOptions {
  spec: ModelSpec;
  weights: WeightSet;
  x: Float32Array;
  n: number;
}

/** Probabilities of class 1 (sigmoid of the model's output), one per row. Initialises the backend if needed. */
export async function predict(options: PredictOptions): Promise<Float32Array> {
  await initBackend();
  const { spec, weights, x, n } = options;
  assertWeights(layoutOf(spec), weights);
  if (x.length !== n * spec.inputs)
    throw new TwinfedError('BAD_REQUEST', `x has ${x.length} values, expected ${n}×${spec.inputs}`);
  if (n === 0) return new Float32Array(0);
  const probs = tf.tidy(() => {
    const params = weightTensors(weights);
    return tf.sigmoid(forwardLogits(spec, params, tf.tensor2d(x, [n, spec.inputs], 'float32')));
  });
  const out = (await probs.data()) as Float32Array;
  probs.dispose();
  return out;
}

/** A model's metrics on one data set. */
export interface Evaluation {
  n: number;
  /** Accuracy at threshold 0.5 (p > 0.5 is positive), FLamby's metric. */
  accuracy: number;
  /** ROC AUC; NaN when the data set has one class only. */
  auc: number;
  /** Mean log loss (BCE). */
  loss: number;
  brier: number;
  /**
   * Calibration of the probabilities (binary models only): the reliability curve over 10 equal-width bins (count,
   * mean prediction, observed positive rate; NaN rates in an empty bin) and its expected calibration error (NaN when
   * the data set is empty).
   */
  calibration?: { ece: number; bins: CalibrationBin[] };
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  spec: ModelSpec;
  weights: WeightSet;
  data: Split;
}

/** Predicts `data` and scores it. */
export async function evaluate(options: EvaluateOptions): Promise<Evaluation> {
  const { spec, weights, data } = options;
  const p = await predict({ spec, weights, x: data.x, n: data.n });
  const scored = { y: data.y, p };
  return {
    n: data.n,
    accuracy: accuracy(scored),
    auc: rocAuc(scored),
    loss: logLoss(scored),
    brier: brierScore(scored),
    calibration: { ece: expectedCalibrationError(scored), bins: calibrationBins(scored) },
  };
}
