import * as tf from '@tensorflow/tfjs';
import { initialWeights, layoutOf, layoutSize, sameLayout, tensorSize, TwinfedError, type Layout, type ModelSpec, type WeightSet } from '@twinfed/shared';

/**
 * A model of a {@link ModelSpec} as tfjs variables, one per tensor of `layoutOf(spec)`, in layout
 * order. The forward pass is written out (matMul, add, activation) instead of using tfjs-layers:
 * fewer ops per training step, and variables map to layout tensors by position, not by tfjs's
 * auto-generated names.
 */
export interface TfModel {
  readonly spec: ModelSpec;
  readonly layout: Layout;
  /** One trainable variable per layout tensor, same order and shape. */
  readonly variables: readonly tf.Variable[];
  /** Log-odds `[n, 1]` for inputs `[n, inputs]`. */
  logits(x: tf.Tensor2D): tf.Tensor2D;
  /** Copies weights into the existing variables (no new variables). Throws `INVALID_WEIGHTS` on a layout mismatch. */
  setWeights(weights: WeightSet): void;
  /** The current weights, as a new flat array in layout order. */
  getWeights(): WeightSet;
  /** Frees the variables. */
  dispose(): void;
}

/** Options of {@link createModel}. */
export interface CreateModelOptions {
  spec: ModelSpec;
  /** Initial weights; default `initialWeights(spec, seed)`. */
  weights?: WeightSet;
  /** Seed of the default initial weights; default 0. */
  seed?: number;
}

/**
 * The forward pass over any parameter tensors in layout order (variables while training, plain
 * tensors when predicting): dense layers with the spec's activation, then one output unit. Returns logits.
 */
export function forwardLogits(spec: ModelSpec, params: readonly tf.Tensor[], x: tf.Tensor2D): tf.Tensor2D {
  const layers = params.length / 2;
  let h: tf.Tensor2D = x;
  for (let i = 0; i < layers; i++) {
    const z = tf.add(tf.matMul(h, params[2 * i] as tf.Tensor2D), params[2 * i + 1]!) as tf.Tensor2D;
    const last = i === layers - 1;
    h = last || spec.kind === 'logistic-regression' ? z : spec.activation === 'tanh' ? tf.tanh(z) : tf.relu(z);
  }
  return h;
}

/** Checks a weight set against a layout; throws `INVALID_WEIGHTS` / `NON_FINITE_WEIGHTS`. */
export function assertWeights(layout: Layout, weights: WeightSet): void {
  if (!sameLayout(layout, weights.layout) || weights.data.length !== layoutSize(layout)) {
    throw new TwinfedError('INVALID_WEIGHTS', undefined, { details: { expected: layout.map((t) => `${t.name}[${t.shape.join(',')}]`) } });
  }
  for (let i = 0; i < weights.data.length; i++) {
    if (!Number.isFinite(weights.data[i]!)) throw new TwinfedError('NON_FINITE_WEIGHTS');
  }
}

/** Plain tensors of a weight set, one per layout tensor (caller disposes). */
export function weightTensors(weights: WeightSet): tf.Tensor[] {
  let offset = 0;
  return weights.layout.map((t) => {
    const size = tensorSize(t);
    const tensor = tf.tensor(weights.data.subarray(offset, offset + size), [...t.shape], 'float32');
    offset += size;
    return tensor;
  });
}

/** Builds the variables of a spec and loads the initial weights. */
export function createModel(options: CreateModelOptions): TfModel {
  const { spec } = options;
  const layout = layoutOf(spec);
  const init = options.weights ?? initialWeights(spec, options.seed ?? 0);
  assertWeights(layout, init);
  const variables = tf.tidy(() => weightTensors(init).map((t) => tf.variable(t, true)));
  return {
    spec,
    layout,
    variables,
    logits: (x) => forwardLogits(spec, variables, x),
    setWeights(weights) {
      assertWeights(layout, weights);
      const values = weightTensors(weights);
      values.forEach((v, i) => variables[i]!.assign(v));
      tf.dispose(values);
    },
    getWeights() {
      const data = new Float32Array(layoutSize(layout));
      let offset = 0;
      for (const v of variables) {
        const values = v.dataSync() as Float32Array;
        data.set(values, offset);
        offset += values.length;
      }
      return { layout, data };
    },
    dispose() {
      tf.dispose([...variables]);
    },
  };
}
