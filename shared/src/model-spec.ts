import { z } from 'zod';
import { SeededRandom } from './random';
import { layoutSize, type Layout, type TensorSpec, type WeightSet } from './weights/types';

/** A model the federation trains. The coordinator only needs its layout; `models/` builds it with tfjs. */
export const ModelSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('logistic-regression'), inputs: z.number().int().min(1).max(100_000) }).strict(),
  z
    .object({
      kind: z.literal('mlp'),
      inputs: z.number().int().min(1).max(100_000),
      hidden: z.array(z.number().int().min(1).max(4096)).min(1).max(8),
      activation: z.enum(['relu', 'tanh']).default('relu'),
    })
    .strict(),
]);

/** A model spec (see {@link ModelSpecSchema}). */
export type ModelSpec = z.infer<typeof ModelSpecSchema>;

const f32 = (name: string, shape: number[]): TensorSpec => ({ name, shape, dtype: 'float32' });

/**
 * The tensor layout of a model spec. Names are stable across packages:
 * logistic regression is `dense/kernel [inputs,1]`, `dense/bias [1]`;
 * an MLP is `hidden_i/kernel`, `hidden_i/bias` per hidden layer, then `output/kernel`, `output/bias`.
 */
export function layoutOf(spec: ModelSpec): Layout {
  if (spec.kind === 'logistic-regression') return [f32('dense/kernel', [spec.inputs, 1]), f32('dense/bias', [1])];
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
 * Seeded initial weights, PyTorch's default for a Linear layer: kernel and bias uniform in ±1/√fanIn.
 * Every method of one seeded run starts from these same weights.
 */
export function initialWeights(spec: ModelSpec, seed: number): WeightSet {
  const layout = layoutOf(spec);
  const data = new Float32Array(layoutSize(layout));
  const rng = new SeededRandom(seed);
  let offset = 0;
  for (let i = 0; i < layout.length; i += 2) {
    const kernel = layout[i]!;
    const fanIn = kernel.shape[0]!;
    const bound = 1 / Math.sqrt(fanIn);
    const n = kernel.shape.reduce((a, b) => a * b, 1) + layout[i + 1]!.shape.reduce((a, b) => a * b, 1);
    for (let k = 0; k < n; k++) data[offset + k] = rng.uniform(-bound, bound);
    offset += n;
  }
  return { layout, data };
}
