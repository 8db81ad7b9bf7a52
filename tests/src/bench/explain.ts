/**
 * Cost of one explained score by method: exact Shapley values (2^d coalitions × the background), sampled Shapley
 * values beyond 16 inputs, against integrated gradients on the same model and row, measured in the same run.
 */
import { performance } from 'node:perf_hooks';
import { explain, initBackend, type ExplainMethod } from '@twinfed/models';
import { initialWeights, SeededRandom, type ModelSpec } from '@twinfed/shared';

/** Options of {@link benchExplain}. */
interface BenchExplainOptions {
  /** Input counts to measure (exact Shapley up to 16, sampled beyond). */
  inputs: readonly number[];
  /** Background rows of the Shapley values. */
  background: number;
  /** Explained rows per method and input count (the median is reported). */
  repeats: number;
  backend: 'cpu' | 'wasm';
}

/** One input count's measurements, in milliseconds per explained row (medians). */
interface BenchExplainRow {
  inputs: number;
  shapleyMethod: 'exact' | 'sampling';
  shapleyMs: number;
  integratedGradientsMs: number;
  /** Shapley / integrated gradients. */
  ratio: number;
}

async function medianMs(run: () => Promise<unknown>, repeats: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Milliseconds per explained row of an MLP ([16, 8], relu) by method, for each input count. */
export async function benchExplain(options: BenchExplainOptions): Promise<BenchExplainRow[]> {
  await initBackend({ prefer: options.backend });
  const rows: BenchExplainRow[] = [];
  for (const d of options.inputs) {
    const spec: ModelSpec = { kind: 'mlp', inputs: d, hidden: [16, 8], activation: 'relu' };
    const weights = initialWeights(spec, 1);
    const rng = new SeededRandom(d);
    const x = Float32Array.from({ length: d }, () => rng.normal());
    const background = Float32Array.from({ length: options.background * d }, () => rng.normal());
    const featureNames = Array.from({ length: d }, (_, j) => `f${j}`);
    const run = (method: ExplainMethod) => () => explain({ spec, weights, x, featureNames, method, background });
    await run('shapley')(); // warm-up (backend kernels, first allocations)
    const shapleyMs = await medianMs(run('shapley'), options.repeats);
    const integratedGradientsMs = await medianMs(run('integrated-gradients'), options.repeats);
    rows.push({
      inputs: d,
      shapleyMethod: d <= 16 ? 'exact' : 'sampling',
      shapleyMs,
      integratedGradientsMs,
      ratio: shapleyMs / integratedGradientsMs,
    });
  }
  return rows;
}
