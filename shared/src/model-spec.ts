import { z } from 'zod';
import { TorchCpuGenerator } from './torch-random';
import { layoutSize, type Layout, type TensorSpec, type WeightSet } from './weights/types';

/** The number of model inputs, shared by every model kind. */
const ModelInputsSchema = z
  .number()
  .int()
  .min(1)
  .max(100_000)
  .describe('Number of model inputs; must equal the number of data.features.');

const HiddenSchema = z
  .array(z.number().int().min(1).max(4096))
  .min(1)
  .max(8)
  .describe('Units of each hidden layer, input side first (1 to 8 layers of 1 to 4096 units).');
const ActivationSchema = z.enum(['relu', 'tanh']).default('relu').describe('Activation of the hidden layers.');

/** How the Cox partial likelihood treats events at the same time. */
const TiesSchema = z
  .enum(['breslow', 'efron'])
  .default('breslow')
  .describe(
    'Cox models: how the partial likelihood treats events at the same time, `breslow` (every tied event sees the whole risk set) or `efron` (tied events leave the risk set gradually; closer to the exact likelihood when ties are many).',
  );

/** The horizon of a Cox model's scores, in days. */
const HorizonSchema = z
  .number()
  .positive()
  .max(36_500)
  .default(365)
  .describe(
    'Cox models: scores are the risk of the event within this many days, 1 − S(H | x), from the Breslow baseline hazard the sites compute through the secure sum after the last round (one-day bins up to 366 days, wider beyond), signed into the version `<final>.baseline`.',
  );

/** A model the federation trains. The coordinator only needs its layout; `models/` builds it with tfjs. */
export const ModelSpecSchema = z
  .discriminatedUnion('kind', [
    z
      .object({
        kind: z
          .literal('logistic-regression')
          .describe(
            'Logistic regression: one dense layer and a sigmoid (weights `dense/kernel [inputs,1]`, `dense/bias [1]`).',
          ),
        inputs: ModelInputsSchema,
      })
      .strict(),
    z
      .object({
        kind: z.literal('mlp').describe('Multi-layer perceptron: dense hidden layers, then one sigmoid output unit.'),
        inputs: ModelInputsSchema,
        hidden: HiddenSchema,
        activation: ActivationSchema,
      })
      .strict(),
    z
      .object({
        kind: z
          .literal('cox')
          .describe(
            'Cox proportional hazards with a linear risk score (weights `dense/kernel [inputs,1]`, `dense/bias [1]`, built like logistic regression; the risk score has no bias: the forward pass masks `dense/bias` out, so it keeps its seeded value). Needs time-to-event data: a CSV mapping whose `label` names a time and an event column.',
          ),
        inputs: ModelInputsSchema,
        ties: TiesSchema,
        horizonDays: HorizonSchema,
      })
      .strict(),
    z
      .object({
        kind: z
          .literal('cox-mlp')
          .describe(
            'Cox proportional hazards with an MLP risk score (the layout of `mlp`; its output unit is the log relative hazard, without a sigmoid; the forward pass masks `output/bias` out).',
          ),
        inputs: ModelInputsSchema,
        hidden: HiddenSchema,
        activation: ActivationSchema,
        ties: TiesSchema,
        horizonDays: HorizonSchema,
      })
      .strict(),
  ])
  .describe(
    'The model the federation trains, selected by `kind`. Initial weights are seeded exactly as PyTorch’s nn.Linear with the plan’s seed.',
  );

/** A model spec (see {@link ModelSpecSchema}). */
export type ModelSpec = z.infer<typeof ModelSpecSchema>;

/** A Cox proportional-hazards model spec (`cox` or `cox-mlp`): trained on time-to-event data. */
export type CoxModelSpec = Extract<ModelSpec, { kind: 'cox' | 'cox-mlp' }>;

/** Whether a spec is a Cox model (time-to-event) rather than a binary classifier. */
export function isCoxModel(spec: ModelSpec): spec is CoxModelSpec {
  return spec.kind === 'cox' || spec.kind === 'cox-mlp';
}

const f32 = (name: string, shape: number[]): TensorSpec => ({ name, shape, dtype: 'float32' });

/**
 * The tensor layout of a model spec. Names are stable across packages:
 * logistic regression and a linear Cox model are `dense/kernel [inputs,1]`, `dense/bias [1]`;
 * an MLP (and a Cox MLP) is `hidden_i/kernel`, `hidden_i/bias` per hidden layer, then `output/kernel`, `output/bias`.
 */
export function layoutOf(spec: ModelSpec): Layout {
  if (spec.kind === 'logistic-regression' || spec.kind === 'cox')
    return [f32('dense/kernel', [spec.inputs, 1]), f32('dense/bias', [1])];
  const out: TensorSpec[] = [];
  let fanIn = spec.inputs;
  spec.hidden.forEach((units, i) => {
    out.push(f32(`hidden_${i}/kernel`, [fanIn, units]), f32(`hidden_${i}/bias`, [units]));
    fanIn = units;
  });
  out.push(f32('output/kernel', [fanIn, 1]), f32('output/bias', [1]));
  return out;
}

/**
 * Seeded initial weights, exactly PyTorch's: the same numbers as `torch.manual_seed(seed)` followed by
 * building the layers as `nn.Linear` in order (kaiming_uniform(a=√5) kernel, then bias, both uniform in
 * ±1/√fanIn). PyTorch stores a kernel as [out, in]; ours is [in, out], so draws are placed transposed.
 * Every method of one seeded run starts from these same weights, and a PyTorch baseline with the same
 * seed starts from them too (FLamby's Fed-Heart-Disease: `torch.manual_seed(s); Baseline()`).
 */
export function initialWeights(spec: ModelSpec, seed: number): WeightSet {
  const layout = layoutOf(spec);
  const data = new Float32Array(layoutSize(layout));
  const rng = new TorchCpuGenerator(seed);
  let offset = 0;
  for (let i = 0; i < layout.length; i += 2) {
    const [fanIn, units] = layout[i]!.shape as [number, number];
    const bound = 1 / Math.sqrt(fanIn);
    for (let o = 0; o < units; o++) {
      for (let k = 0; k < fanIn; k++) data[offset + k * units + o] = rng.uniformFloat32(-bound, bound);
    }
    offset += fanIn * units;
    for (let o = 0; o < units; o++) data[offset + o] = rng.uniformFloat32(-bound, bound);
    offset += units;
  }
  return { layout, data };
}
