import { predict, predictCoxRisk } from '@twinfed/models';
import { TwinfedError, isCoxModel, type GridBaseline, type ModelSpec, type WeightSet } from '@twinfed/shared';

/**
 * The scores of model inputs `x` (row-major `[n, inputs]`): a binary model's probability, or a Cox model's risk of the
 * event within its horizon, 1 − exp(−H₀(horizon) · e^η), with H₀ the federated Breslow baseline signed into the version
 * (`meta.coxBaseline`); a recalibrated binary version's probability is σ(a·z + b) (`meta.recalibration`). Throws
 * `BAD_REQUEST` for a Cox version without a baseline: it ranks patients but gives no risk.
 */
export async function modelScores(o: {
  spec: ModelSpec;
  weights: WeightSet;
  x: Float32Array;
  n: number;
  baseline?: GridBaseline | undefined;
  /** A recalibrated version's signed parameters (binary models): probabilities σ(a·z + b) of the log-odds z. */
  recalibration?: { readonly a: number; readonly b: number } | undefined;
}): Promise<Float32Array> {
  const { spec, weights, x, n } = o;
  if (!isCoxModel(spec))
    return predict({ spec, weights, x, n, ...(o.recalibration ? { recalibration: o.recalibration } : {}) });
  if (!o.baseline)
    throw new TwinfedError(
      'BAD_REQUEST',
      `This ${spec.kind} model version carries no federated baseline hazard, so it gives no risk within ${spec.horizonDays} days: use the federation's baseline version (<final version>.baseline), which is signed once every site of the last round has added its masked event counts.`,
    );
  return predictCoxRisk({ spec, weights, x, n, baseline: o.baseline });
}
