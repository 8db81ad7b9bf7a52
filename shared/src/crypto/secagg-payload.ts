/**
 * What a site masks under secure aggregation (crypto/secagg), so that the coordinator learns its side facts only
 * summed over the survivors, like the weights — never one site's example count or training loss:
 *
 *   [ n·w_1 … n·w_L | n | n·loss | n_loss ]      (L = the model's weights; the last 3 are the side facts)
 *
 *   n·w_k    fixed point, 2^-SECAGG_FRACTION_BITS (|n·w_k · 2^20| < 2^53, else `VALIDATION_FAILED`, as before)
 *   n        an integer in [1, SECAGG_MAX_EXAMPLES] (else `EXAMPLES_OUT_OF_RANGE`: the site refuses to send it)
 *   n·loss   fixed point, 2^-SECAGG_LOSS_FRACTION_BITS, for a loss in [0, SECAGG_MAX_LOSS]; 0 otherwise
 *   n_loss   n when the loss was sent, else 0 (so the mean loss is over the sites that had one)
 *
 * No wrap-around: every element a site sends is below 2^53 in magnitude and a cohort has at most
 * SECAGG_MAX_COHORT = 255 < 2^8 sites, so every sum stays below 2^61 < 2^63 (the ring is Z/2^64, two's complement).
 * The integer side facts stay exact: Σn ≤ 255 · 2^29 < 2^37. The coordinator checks the decoded sums against what
 * honest sites can send (`EXAMPLES_OUT_OF_RANGE` when Σn is outside [|U3|, |U3| · the plan's maximum]).
 */
import { TwinfedError } from '../errors';
import { SECAGG_FRACTION_BITS } from './secagg';
import { decodeRing64, encodeRing64, type Ring64 } from './ring64';

/** Side facts after the weights in a masked vector: n, n·loss, n_loss. */
export const SECAGG_SIDE_FACTS = 3;
/** The most examples one site may put in a masked vector (= the plan's `MAX_EXAMPLES_PER_SITE_LIMIT`, 2^29). */
export const SECAGG_MAX_EXAMPLES = 2 ** 29;
/** Fixed-point precision of n·loss (2^-12 per site: far below any loss difference that matters). */
const SECAGG_LOSS_FRACTION_BITS = 12;
/** The largest training loss a site sends (n · loss · 2^12 < 2^29 · 2^10 · 2^12 = 2^51); a larger one is not sent. */
export const SECAGG_MAX_LOSS = 2 ** 10;

/**
 * `numExamples` in the clear header of a masked update (the schema needs a positive integer): always 1, and `metrics`
 * always empty — the site's real count and loss are in the masked vector. The coordinator refuses anything else.
 */
export const SECAGG_HEADER_EXAMPLES = 1;

/**
 * Ring elements of a masked vector for a model of `weights` elements: the weights and the side facts, or under
 * distributed DP the noised delta alone (n and the loss are not covered by ε, so they are not sent at all).
 */
export function secaggVectorLength(weights: number, opts: { distributedDp?: boolean } = {}): number {
  return opts.distributedDp ? weights : weights + SECAGG_SIDE_FACTS;
}

/** What a site puts into its masked vector. */
interface SecaggInput {
  /** The trained weights w (not yet multiplied by n). */
  weights: ArrayLike<number>;
  /** n: the examples the site claims (its weight in the mean). */
  numExamples: number;
  /** Its mean training loss, when it has one. */
  trainLoss?: number;
}

/**
 * A site's plaintext vector [n·w | n | n·loss | n_loss], encoded in the ring. Throws `EXAMPLES_OUT_OF_RANGE` for
 * an n that is not an integer in [1, {@link SECAGG_MAX_EXAMPLES}] (it could make the sums wrap or lose exactness),
 * `VALIDATION_FAILED` when a weighted weight cannot be encoded. A loss that is not finite or outside
 * [0, {@link SECAGG_MAX_LOSS}] is left out (n·loss = n_loss = 0).
 */
export function encodeSecaggInput(input: SecaggInput): Ring64 {
  const n = input.numExamples;
  if (!Number.isSafeInteger(n) || n < 1 || n > SECAGG_MAX_EXAMPLES) {
    throw new TwinfedError(
      'EXAMPLES_OUT_OF_RANGE',
      `A masked update claims 1 to ${SECAGG_MAX_EXAMPLES} examples, not ${n}.`,
    );
  }
  const L = input.weights.length;
  const out = new Uint32Array(2 * secaggVectorLength(L));
  // n · w by a loop: Float64Array.from with a mapping function walks the weights' iterator, a heap object per weight
  // (with encodeRing64's copy, the largest part of what a secure site allocated per round).
  const weighted = new Float64Array(L);
  for (let i = 0; i < L; i++) weighted[i] = input.weights[i]! * n;
  out.set(encodeRing64(weighted, SECAGG_FRACTION_BITS), 0);
  const loss = input.trainLoss;
  const withLoss = loss !== undefined && Number.isFinite(loss) && loss >= 0 && loss <= SECAGG_MAX_LOSS;
  out.set(encodeRing64([n], 0), 2 * L);
  out.set(encodeRing64([withLoss ? n * loss : 0], SECAGG_LOSS_FRACTION_BITS), 2 * (L + 1));
  out.set(encodeRing64([withLoss ? n : 0], 0), 2 * (L + 2));
  return out;
}

/** The unmasked sum over U3, decoded. */
export interface SecaggSum {
  /** Σ n·w (divide by {@link examples} for the example-weighted mean). */
  weighted: Float64Array;
  /** Σ n. */
  examples: number;
  /** Σ n·loss over the sites that sent a loss, and Σ n of those sites. */
  lossSum: number;
  lossExamples: number;
}

/**
 * Decodes the unmasked ring sum of `sites` masked vectors of a `weights`-element model, and checks the side facts
 * against what `sites` honest sites can send: Σn an integer in [sites, sites · maxExamples], Σn_loss in [0, Σn].
 * Throws `EXAMPLES_OUT_OF_RANGE` otherwise (a site put something else in its vector, or the vectors do not belong
 * together), `VALIDATION_FAILED` on a vector of the wrong length.
 */
export function decodeSecaggSum(sum: Ring64, opts: { weights: number; sites: number; maxExamples: number }): SecaggSum {
  const L = opts.weights;
  if (sum.length !== 2 * secaggVectorLength(L))
    throw new TwinfedError(
      'VALIDATION_FAILED',
      `A masked sum of a ${L}-weight model has ${secaggVectorLength(L)} elements.`,
    );
  const weighted = decodeRing64(sum.subarray(0, 2 * L), SECAGG_FRACTION_BITS);
  const [examples] = decodeRing64(sum.subarray(2 * L, 2 * (L + 1)), 0);
  const [lossSum] = decodeRing64(sum.subarray(2 * (L + 1), 2 * (L + 2)), SECAGG_LOSS_FRACTION_BITS);
  const [lossExamples] = decodeRing64(sum.subarray(2 * (L + 2)), 0);
  const max = opts.sites * Math.min(opts.maxExamples, SECAGG_MAX_EXAMPLES);
  if (!Number.isSafeInteger(examples) || examples! < opts.sites || examples! > max) {
    throw new TwinfedError(
      'EXAMPLES_OUT_OF_RANGE',
      `The ${opts.sites} masked updates sum to ${examples} examples, outside [${opts.sites}, ${max}]: a site's masked vector does not hold what the protocol asks.`,
    );
  }
  if (
    !Number.isSafeInteger(lossExamples) ||
    lossExamples! < 0 ||
    lossExamples! > examples! ||
    lossSum! < 0 ||
    lossSum! > lossExamples! * SECAGG_MAX_LOSS
  ) {
    throw new TwinfedError(
      'EXAMPLES_OUT_OF_RANGE',
      "The masked updates' summed training loss is outside what the sites can send.",
    );
  }
  return { weighted, examples: examples!, lossSum: lossSum!, lossExamples: lossExamples! };
}
