/**
 * A model as TensorFlow.js "layers-model" artifacts, written without tfjs: the JSON a `tf.loadLayersModel` reads
 * (Keras-style Sequential topology of Dense layers, sigmoid output) and one little-endian float32 weight shard.
 * Weight names are the layout's (`dense/kernel`, `hidden_0/bias`, …), which are also the names tfjs gives a
 * Dense layer's weights, and the shard is the layout's data in order: byte for byte the data section of the
 * signed weights file. The model takes inputs already preprocessed as the bundle's manifest says.
 */
import { isCoxModel, layoutOf, type ModelSpec } from '../model-spec';
import { float32ToLE } from '../weights/endian';
import type { WeightSet } from '../weights/types';

/** File name of the single weight shard, relative to `model.json`. */
export const LAYERS_SHARD_FILE = 'group1-shard1of1.bin';

/** One Dense layer of the exported model. */
interface LayersDense {
  readonly name: string;
  readonly units: number;
  readonly activation: 'relu' | 'tanh' | 'sigmoid' | 'linear';
  readonly inputs: number;
}

/**
 * The Dense layers a spec becomes, in order: hidden layers with the spec's activation, then one output unit,
 * a sigmoid (probability) for binary models and linear (the log relative hazard) for Cox models.
 */
export function denseLayers(spec: ModelSpec): LayersDense[] {
  const output = isCoxModel(spec) ? 'linear' : 'sigmoid';
  if (spec.kind === 'logistic-regression' || spec.kind === 'cox')
    return [{ name: 'dense', units: 1, activation: output, inputs: spec.inputs }];
  const out: LayersDense[] = [];
  let fanIn = spec.inputs;
  spec.hidden.forEach((units, i) => {
    out.push({ name: `hidden_${i}`, units, activation: spec.activation, inputs: fanIn });
    fanIn = units;
  });
  out.push({ name: 'output', units: 1, activation: output, inputs: fanIn });
  return out;
}

function denseConfig(layer: LayersDense, first: boolean): Record<string, unknown> {
  return {
    class_name: 'Dense',
    config: {
      units: layer.units,
      activation: layer.activation,
      use_bias: true,
      kernel_initializer: { class_name: 'Zeros', config: {} },
      bias_initializer: { class_name: 'Zeros', config: {} },
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
      name: layer.name,
      trainable: false,
      ...(first ? { batch_input_shape: [null, layer.inputs] } : {}),
      dtype: 'float32',
    },
  };
}

/** The `model.json` of a spec (format `layers-model`), with one weight group in {@link LAYERS_SHARD_FILE}. */
export function layersModelJson(spec: ModelSpec): Record<string, unknown> {
  const layers = denseLayers(spec);
  return {
    format: 'layers-model',
    generatedBy: 'twinfed',
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      config: { name: 'twinfed_model', layers: layers.map((l, i) => denseConfig(l, i === 0)) },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [
      {
        paths: [LAYERS_SHARD_FILE],
        weights: layoutOf(spec).map((t) => ({ name: t.name, shape: [...t.shape], dtype: t.dtype })),
      },
    ],
  };
}

/** The weight shard: the weights' float32 values, little-endian, in layout order (a copy). */
export function layersShard(weights: WeightSet): Uint8Array {
  return Uint8Array.from(float32ToLE(weights.data));
}
