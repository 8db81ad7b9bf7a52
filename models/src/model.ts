import * as tf from '@tensorflow/tfjs';
import {
  initialWeights,
  isCoxModel,
  layoutOf,
  layoutSize,
  sameLayout,
  TwinfedError,
  type Layout,
  type ModelSpec,
  type WeightSet,
} from '@twinfed/shared';

/**
 * A model of a {@link ModelSpec} as tfjs variables. Each dense layer is ONE variable, its kernel and
 * bias stacked as `[fanIn + 1, units]` (the bias is the last row) and applied to inputs with a ones
 * column appended. Row-major, that stacked matrix is exactly the layout's `…/kernel` followed by
 * `…/bias`, so weights map to variables by position with no reshuffling. It halves the optimiser's
 * work per step and, with inputs augmented once up front, makes a logistic regression one matMul:
 * the FLamby benchmark runs ~270k steps, so per-step op count matters. The forward pass is written
 * out rather than built with tfjs-layers (fewer ops; no dependence on tfjs's generated variable names).
 */
export interface TfModel {
  readonly spec: ModelSpec;
  readonly layout: Layout;
  /** One trainable variable per dense layer, `[fanIn + 1, units]`, in layout order. */
  readonly variables: readonly tf.Variable[];
  /** The output unit `[n, 1]` (log-odds; the log relative hazard of a Cox model) for inputs `[n, inputs]`, or `[n, inputs + 1]` already ending in a ones column. */
  logits(x: tf.Tensor2D, options?: { augmented?: boolean }): tf.Tensor2D;
  /** Copies weights into the existing variables (no new variables). Throws `INVALID_WEIGHTS` on a layout mismatch. */
  setWeights(weights: WeightSet): void;
  /** The current weights, as a new flat array in layout order. */
  getWeights(): WeightSet;
  /** Frees the variables. */
  dispose(): void;
}

/** Options of {@link createModel}. */
interface CreateModelOptions {
  spec: ModelSpec;
  /** Initial weights; default `initialWeights(spec, seed)`. */
  weights?: WeightSet;
  /** Seed of the default initial weights; default 0. */
  seed?: number;
}

/** `x` with a column of ones appended: `[n, d]` → `[n, d + 1]`. */
export function withOnes(x: tf.Tensor2D): tf.Tensor2D {
  return tf.concat([x, tf.ones([x.shape[0], 1])], 1);
}

/**
 * The forward pass over stacked layer parameters (variables while training, plain tensors when
 * predicting; see {@link TfModel}): dense layers with the spec's activation, then one output unit.
 * Returns logits `[n, 1]`. With `augmented`, `x` already ends in a ones column.
 * A Cox model's output has no bias: the layout keeps the output bias (PyTorch's `nn.Linear`, as FLamby's
 * baseline), but it is masked out here, so it neither moves the score nor receives a gradient (the partial
 * likelihood cannot see a constant shift, and float noise in its gradient would otherwise let Adam drift it).
 */
export function forwardLogits(
  spec: ModelSpec,
  params: readonly tf.Tensor[],
  x: tf.Tensor2D,
  options: { augmented?: boolean } = {},
): tf.Tensor2D {
  let h = options.augmented ? x : withOnes(x);
  for (let i = 0; i < params.length; i++) {
    const last = i === params.length - 1;
    const w = (last && isCoxModel(spec) ? withoutBias(params[i]!) : params[i]) as tf.Tensor2D;
    const z = tf.matMul<tf.Tensor2D>(h, w);
    if (last) return z;
    h = withOnes('activation' in spec && spec.activation === 'tanh' ? tf.tanh(z) : tf.relu(z));
  }
  throw new TwinfedError('INVALID_WEIGHTS', 'a model needs at least one layer');
}

/** A stacked `[fanIn + 1, units]` layer with its bias row zeroed (by a mask, so the bias gets a zero gradient). */
function withoutBias(stacked: tf.Tensor): tf.Tensor {
  const [rows, units] = stacked.shape as [number, number];
  return tf.mul(stacked, tf.concat([tf.ones([rows - 1, units]), tf.zeros([1, units])]));
}

/** Checks a weight set against a layout; throws `INVALID_WEIGHTS` / `NON_FINITE_WEIGHTS`. */
export function assertWeights(layout: Layout, weights: WeightSet): void {
  if (!sameLayout(layout, weights.layout) || weights.data.length !== layoutSize(layout)) {
    throw new TwinfedError('INVALID_WEIGHTS', undefined, {
      details: { expected: layout.map((t) => `${t.name}[${t.shape.join(',')}]`) },
    });
  }
  for (let i = 0; i < weights.data.length; i++) {
    if (!Number.isFinite(weights.data[i]!)) throw new TwinfedError('NON_FINITE_WEIGHTS');
  }
}

/** Each layer's `[fanIn + 1, units]` stacked shape, from a layout of kernel/bias pairs (checked). */
function stackedShapes(layout: Layout): [number, number][] {
  const shapes: [number, number][] = [];
  for (let i = 0; i < layout.length; i += 2) {
    const kernel = layout[i]!.shape;
    const bias = layout[i + 1]?.shape;
    if (kernel.length !== 2 || bias?.length !== 1 || bias[0] !== kernel[1]) {
      throw new TwinfedError('INVALID_WEIGHTS', `layout tensors ${i} and ${i + 1} are not a kernel/bias pair`);
    }
    shapes.push([kernel[0]! + 1, kernel[1]!]);
  }
  return shapes;
}

/** Plain stacked-layer tensors of a weight set, one per dense layer (caller disposes). */
export function weightTensors(weights: WeightSet): tf.Tensor2D[] {
  let offset = 0;
  return stackedShapes(weights.layout).map((shape) => {
    const size = shape[0] * shape[1];
    const tensor = tf.tensor2d(weights.data.subarray(offset, offset + size), shape, 'float32');
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
    logits: (x, opts) => forwardLogits(spec, variables, x, opts),
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
