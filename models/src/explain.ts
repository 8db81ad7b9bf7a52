import * as tf from '@tensorflow/tfjs';
import { layoutOf, TwinfedError, type ModelSpec, type WeightSet } from '@twinfed/shared';
import { initBackend } from './backend';
import { assertWeights, forwardLogits, weightTensors } from './model';
import { shapleyValues, type BatchScorer } from './shapley';

/** One feature's share of a prediction, in the units of the model's output (log-odds, or a Cox log relative hazard). */
interface Contribution {
  readonly feature: string;
  /** The (normalised) input value. */
  readonly value: number;
  readonly contribution: number;
}

/** How a prediction is explained; `auto` picks `linear` for logistic regression and a linear Cox model, `shapley` otherwise. */
export type ExplainMethod = 'auto' | 'linear' | 'integrated-gradients' | 'shapley';

/** Options of {@link explain}. */
interface ExplainOptions {
  spec: ModelSpec;
  weights: WeightSet;
  /** One row of model inputs (normalised as in training). */
  x: Float32Array;
  featureNames: readonly string[];
  /** Default `auto`. */
  method?: ExplainMethod;
  /** Riemann steps of integrated gradients; default 32. */
  steps?: number;
  /** Background rows of the Shapley values, row-major `[m, inputs]` (normalised like `x`); needed by `shapley`. */
  background?: Float32Array;
  /** Seed of the sampled Shapley values (beyond 16 inputs); default 0. */
  seed?: number;
}

/**
 * Per-feature contributions to one prediction's output before the sigmoid (the log-odds; a Cox model's log relative
 * hazard), sorted by |contribution|, largest first.
 * - Linear (logistic regression, linear Cox): weight × value. They sum to logit(x) − bias (for a Cox model, its log
 *   relative hazard against the mean patient, its inputs being z-scored).
 * - Integrated gradients (Sundararajan et al., 2017) from an all-zeros baseline (the training mean, for
 *   z-scored inputs), midpoint rule: value × mean over α of ∂logit/∂x at α·x. They sum to about
 *   logit(x) − logit(0), and equal weight × value for a linear model.
 * - Shapley values against `background` (see `shapleyValues`): exact up to 16 inputs, permutation sampling
 *   beyond. They sum to logit(x) − mean logit of the background, and equal weight × (value − background mean)
 *   for a linear model.
 */
export async function explain(options: ExplainOptions): Promise<Contribution[]> {
  const { spec, weights, x, featureNames } = options;
  assertWeights(layoutOf(spec), weights);
  if (x.length !== spec.inputs || featureNames.length !== spec.inputs) {
    throw new TwinfedError('BAD_REQUEST', `explain needs ${spec.inputs} values and feature names`);
  }
  const method = resolveExplainMethod(spec, options.method);
  let attributions: ArrayLike<number>;
  if (method === 'linear') {
    if (spec.kind !== 'logistic-regression' && spec.kind !== 'cox')
      throw new TwinfedError('BAD_REQUEST', 'linear contributions need a logistic-regression or cox model');
    attributions = Array.from(x, (v, j) => v * weights.data[j]!);
  } else if (method === 'shapley') {
    const background = options.background;
    if (!background) throw new TwinfedError('BAD_REQUEST', 'Shapley values need background rows');
    attributions = (
      await withLogitScorer(spec, weights, (score) =>
        shapleyValues({ score, x, background, ...(options.seed !== undefined ? { seed: options.seed } : {}) }),
      )
    ).contributions;
  } else {
    attributions = await integratedGradients({ spec, weights, x, steps: options.steps ?? 32 });
  }
  return Array.from(x, (value, j) => ({ feature: featureNames[j]!, value, contribution: attributions[j]! })).sort(
    (a, b) => Math.abs(b.contribution) - Math.abs(a.contribution),
  );
}

/** The method `auto` stands for with a model kind: `linear` for logistic regression and linear Cox, `shapley` otherwise. */
export function resolveExplainMethod(spec: ModelSpec, method: ExplainMethod = 'auto'): Exclude<ExplainMethod, 'auto'> {
  if (method !== 'auto') return method;
  return spec.kind === 'logistic-regression' || spec.kind === 'cox' ? 'linear' : 'shapley';
}

/** Runs `use` with a batched scorer of the model's log-odds; the weight tensors live only for that call. */
async function withLogitScorer<T>(
  spec: ModelSpec,
  weights: WeightSet,
  use: (score: BatchScorer) => Promise<T>,
): Promise<T> {
  await initBackend();
  const params = weightTensors(weights);
  try {
    return await use(async (rows, n) => {
      const logits = tf.tidy(() => forwardLogits(spec, params, tf.tensor2d(rows, [n, spec.inputs], 'float32')));
      const out = (await logits.data()) as Float32Array;
      logits.dispose();
      return out;
    });
  } finally {
    tf.dispose(params);
  }
}

async function integratedGradients(args: {
  spec: ModelSpec;
  weights: WeightSet;
  x: Float32Array;
  steps: number;
}): Promise<Float32Array> {
  const { spec, weights, x, steps } = args;
  if (!Number.isInteger(steps) || steps < 1) throw new TwinfedError('BAD_REQUEST', 'steps must be a positive integer');
  await initBackend();
  const d = spec.inputs;
  const result = tf.tidy(() => {
    const params = weightTensors(weights);
    const alphas = tf.tensor2d(
      Array.from({ length: steps }, (_, k) => (k + 0.5) / steps),
      [steps, 1],
    );
    const row = tf.tensor2d(x, [1, d]);
    const path = tf.mul<tf.Tensor2D>(alphas, row);
    // Rows are independent, so the gradient of the summed logits is each row's own gradient.
    const grads = tf.grad((inputs: tf.Tensor) => tf.sum(forwardLogits(spec, params, inputs as tf.Tensor2D)))(path);
    return tf.mul(tf.mean(grads, 0), tf.reshape(row, [d]));
  });
  const out = (await result.data()) as Float32Array;
  result.dispose();
  return out;
}
