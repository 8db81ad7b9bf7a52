/**
 * The encoding of distributed DP (distributed.ts): what a site masks instead of its example-weighted weights, and how
 * the coordinator turns the unmasked integer sum back into a mean delta.
 */
import { TwinfedError } from '../errors';
import type { Uniform } from '../crypto/uniform';
import { ddpSiteVariance, type DdpParameters } from './distributed';
import { addSkellamNoise } from './skellam';

/** What {@link encodeDdpUpdate} produced. */
interface DdpEncoded {
  /** Integers: round(s · clip(trained − base)) + Sk(μ/t) per coordinate. */
  values: Float64Array;
  /** ‖trained − base‖₂ before clipping (stays at the site: never sent). */
  norm: number;
  clipped: boolean;
}

/**
 * A site's contribution: delta = trained − base, scaled down to L2 ≤ C, times 2^bits, rounded to the nearest integer,
 * plus Skellam noise of variance μ/t per coordinate drawn from `uniform` (the OS CSPRNG in the product:
 * `cryptoUniform()`). Throws `NON_FINITE_WEIGHTS` on a NaN or infinite weight, `INVALID_WEIGHTS` on lengths that
 * differ from each other or from the plan's model.
 */
export function encodeDdpUpdate(o: {
  trained: ArrayLike<number>;
  base: ArrayLike<number>;
  params: DdpParameters;
  threshold: number;
  uniform: Uniform;
}): DdpEncoded {
  const { trained, base, params } = o;
  if (trained.length !== base.length || trained.length !== params.dimension) {
    throw new TwinfedError(
      'INVALID_WEIGHTS',
      `A distributed-DP update has ${params.dimension} weights; got ${trained.length} trained and ${base.length} base weights.`,
    );
  }
  const delta = new Float64Array(trained.length);
  let sq = 0;
  for (let i = 0; i < delta.length; i++) {
    const d = trained[i]! - base[i]!;
    if (!Number.isFinite(d)) throw new TwinfedError('NON_FINITE_WEIGHTS', 'The trained weights are not finite.');
    delta[i] = d;
    sq += d * d;
  }
  const norm = Math.sqrt(sq);
  const clipped = norm > params.clip;
  const factor = (clipped ? params.clip / norm : 1) * params.scale;
  for (let i = 0; i < delta.length; i++) delta[i] = Math.round(delta[i]! * factor);
  addSkellamNoise(delta, { variance: ddpSiteVariance(params, o.threshold), uniform: o.uniform });
  return { values: delta, norm, clipped };
}

/**
 * The mean delta from the unmasked integer sum: sum / 2^bits / the sites the round selected (the fixed denominator of
 * central DP: one site's presence moves the mean by at most C/selected, whoever else dropped out). Throws
 * `VALIDATION_FAILED` on a sum that is not integral or of the wrong length.
 */
export function decodeDdpSum(o: {
  sum: ArrayLike<number>;
  params: DdpParameters;
  selectedSites: number;
}): Float64Array {
  const { sum, params, selectedSites } = o;
  if (sum.length !== params.dimension)
    throw new TwinfedError(
      'VALIDATION_FAILED',
      `The unmasked sum has ${sum.length} coordinates, not ${params.dimension}.`,
    );
  if (!Number.isSafeInteger(selectedSites) || selectedSites < 1)
    throw new TwinfedError('INTERNAL', `A distributed-DP round needs its selected site count (got ${selectedSites}).`);
  const div = params.scale * selectedSites;
  const out = new Float64Array(sum.length);
  for (let i = 0; i < out.length; i++) {
    const v = sum[i]!;
    if (!Number.isSafeInteger(v))
      throw new TwinfedError('VALIDATION_FAILED', 'The unmasked distributed-DP sum is not an exact integer vector.');
    out[i] = v / div;
  }
  return out;
}

/** The standard deviation, in weight units, of the noise in the decoded mean when `survivors` sites each added μ/t. */
export function ddpMeanNoiseStd(
  params: DdpParameters,
  o: { survivors: number; threshold: number; selectedSites: number },
): number {
  return Math.sqrt(o.survivors * ddpSiteVariance(params, o.threshold)) / params.scale / o.selectedSites;
}
