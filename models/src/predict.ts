import * as tf from '@tensorflow/tfjs';
import { isCoxModel, layoutOf, recalibrated, TwinfedError, type ModelSpec, type WeightSet } from '@twinfed/shared';
import { initBackend } from './backend';
import { breslowBaseline, riskAtHorizon, type BaselineHazard } from './breslow';
import { cIndex } from './c-index';
import { coxLoss } from './cox-loss';
import { integratedBrierScore } from './integrated-brier';
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

/** Options of {@link modelOutputs} and {@link predict}: `x` is row-major `[n, spec.inputs]`. */
interface PredictOptions {
  spec: ModelSpec;
  weights: WeightSet;
  x: Float32Array;
  n: number;
  /** A recalibrated version's signed parameters: probabilities are σ(a·z + b) of the log-odds z (binary models). */
  recalibration?: Recalibration;
}

/** The part of a version's signed `recalibration` that scoring applies. */
interface Recalibration {
  readonly a: number;
  readonly b: number;
}

/**
 * The model's output unit, one per row: the log-odds of a binary model, the log relative hazard (risk score) of a
 * Cox model. Initialises the backend if needed.
 */
export function modelOutputs(options: PredictOptions): Promise<Float32Array> {
  return forward(options, false);
}

async function forward(options: PredictOptions, sigmoid: boolean): Promise<Float32Array> {
  await initBackend();
  const { spec, weights, x, n } = options;
  assertWeights(layoutOf(spec), weights);
  if (x.length !== n * spec.inputs)
    throw new TwinfedError('BAD_REQUEST', `x has ${x.length} values, expected ${n}×${spec.inputs}`);
  if (n === 0) return new Float32Array(0);
  const out = tf.tidy(() => {
    const z = forwardLogits(spec, weightTensors(weights), tf.tensor2d(x, [n, spec.inputs], 'float32'));
    return tf.reshape(sigmoid ? tf.sigmoid(z) : z, [n]);
  });
  const values = (await out.data()) as Float32Array;
  out.dispose();
  return values;
}

/** Probabilities of class 1 (sigmoid of the model's output), one per row, for a binary model. */
export async function predict(options: PredictOptions): Promise<Float32Array> {
  if (isCoxModel(options.spec))
    throw new TwinfedError(
      'BAD_REQUEST',
      `a ${options.spec.kind} model gives no probability: its score is the risk within ${options.spec.horizonDays} days, which needs a baseline hazard`,
    );
  if (!options.recalibration) return forward(options, true);
  const params = options.recalibration;
  return Float32Array.from(await forward(options, false), (z) => recalibrated(z, params));
}

/**
 * A Cox model's Breslow baseline hazard estimated from one set of time-to-event rows (the federation's baseline is
 * the federated estimator through the secure sum: @twinfed/shared cox-baseline.ts).
 */
export async function coxBaseline(options: EvaluateOptions): Promise<BaselineHazard> {
  const { spec, weights, data } = options;
  if (!isCoxModel(spec) || !data.time)
    throw new TwinfedError('BAD_REQUEST', 'a baseline hazard needs a Cox model and time-to-event rows');
  const eta = await modelOutputs({ spec, weights, x: data.x, n: data.n });
  return breslowBaseline({ eta, time: data.time, event: data.y });
}

/** A Cox model's scores: the risk of the event within the spec's `horizonDays`, 1 − exp(−H₀(H) · e^η), one per row. */
export async function predictCoxRisk(options: PredictOptions & { baseline: BaselineHazard }): Promise<Float32Array> {
  const { spec } = options;
  if (!isCoxModel(spec)) throw new TwinfedError('BAD_REQUEST', `a ${spec.kind} model has no baseline hazard`);
  return Float32Array.from(riskAtHorizon(await modelOutputs(options), options.baseline, spec.horizonDays));
}

/** A binary model's metrics on one data set. */
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

/** A Cox model's metrics on one time-to-event data set. */
export interface SurvivalEvaluation {
  n: number;
  /** Harrell's C-index of the risk score; NaN without a comparable pair. */
  cIndex: number;
  /** Negative partial log-likelihood per row, the whole set as one risk set (the model's ties method). */
  loss: number;
  /** The integrated Brier score (IPCW) up to the horizon, when a baseline hazard was given (integrated-brier.ts). */
  integratedBrier?: number;
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  spec: ModelSpec;
  weights: WeightSet;
  data: Split;
  /** Scores a recalibrated version as {@link predict} does (binary models). */
  recalibration?: Recalibration;
  /** A Cox model's baseline hazard, when known: the evaluation then includes the integrated Brier score. */
  baseline?: BaselineHazard;
}

/**
 * Predicts `data` and scores it, for any model kind: a binary model's {@link evaluate}, or a Cox model's C-index and
 * loss (it needs `data.time`, the event times; `data.y` holds the events). Binary metrics are not computed for Cox.
 */
export async function evaluateModel(options: EvaluateOptions): Promise<Evaluation | SurvivalEvaluation> {
  const { spec, weights, data } = options;
  if (!isCoxModel(spec)) return evaluate(options);
  if (!data.time) throw new TwinfedError('BAD_REQUEST', `a ${spec.kind} model is evaluated on event times`);
  const eta = await modelOutputs({ spec, weights, x: data.x, n: data.n });
  return {
    n: data.n,
    cIndex: cIndex({ risk: eta, time: data.time, event: data.y }),
    loss: data.n === 0 ? NaN : coxLoss(eta, data.time, data.y, spec.ties).loss,
    ...(options.baseline
      ? {
          integratedBrier: integratedBrierScore({
            eta,
            time: data.time,
            event: data.y,
            baseline: options.baseline,
            horizon: spec.horizonDays,
          }),
        }
      : {}),
  };
}

/** Predicts `data` with a binary model and scores it. */
export async function evaluate(options: EvaluateOptions): Promise<Evaluation> {
  const { spec, weights, data } = options;
  const p = await predict({
    spec,
    weights,
    x: data.x,
    n: data.n,
    ...(options.recalibration ? { recalibration: options.recalibration } : {}),
  });
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

/** The metrics an evaluation reports, by name (NaN ones, e.g. the AUC of a one-class split, left out). */
export function evaluationMetrics(e: Evaluation | SurvivalEvaluation): Record<string, number> {
  const all: Record<string, number> =
    'cIndex' in e
      ? {
          cIndex: e.cIndex,
          loss: e.loss,
          ...(e.integratedBrier === undefined ? {} : { integratedBrier: e.integratedBrier }),
        }
      : { accuracy: e.accuracy, auc: e.auc, loss: e.loss, brier: e.brier };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => Number.isFinite(v)));
}
