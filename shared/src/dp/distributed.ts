/**
 * Distributed DP with secure aggregation (`privacy.secureAggregation` + `privacy.dp`): the parameters of the Skellam
 * mechanism (skellam.ts) a plan implies, its privacy accounting and the bound that keeps the masked sum from wrapping.
 *
 * Each site clips its delta to L2 ≤ C, scales it by s = 2^bits, rounds it to integers and adds Sk(μ/t) per coordinate,
 * t being the least number of survivors the round's secure aggregation unmasks with. The coordinator only ever sees
 * the sum of at least t sites, which carries at least Sk(μ) (a sum of independent Skellam variables is Skellam), with
 *   μ = (z·C·s)²     (z = `privacy.dp.noiseMultiplier`: the same noise, relative to C, as central DP's sum)
 * Adjacency is add/remove of one site's update (see docs/decisions.md): its presence moves the integer sum by its
 * encoded vector, whose norms are bounded with the rounding error included (plain rounding, Agarwal et al. 2021 §4):
 *   Δ2 = C·s + √d/2,   Δ1 = min(Δ2², √d·Δ2)      (d = model parameters; |v| ≤ v² for integers)
 * so each published round is one Skellam release with those sensitivities and variance μ, and T rounds compose by
 * RDP (`skellamEpsilon`).
 *
 * The scale: s is the largest power of two with z·C·s ≤ 2^20, so the noise's standard deviation in integer units is
 * 2^19–2^20 — coarse enough that the discrete surcharge and the rounding term √d/2 are negligible next to C·s, small
 * enough that a site's Poisson draws stay exact (variance ≤ 2^40) and the sum of a full cohort stays far below 2^53,
 * where the float decoding of the unmasked sum stops being exact ({@link ddpSumBound}).
 */
import { skellamEpsilon } from './skellam';

/** log2 of the largest noise standard deviation of the sum, in integer units (z·C·s ≤ 2^this). */
export const DDP_NOISE_STD_BITS = 20;
/** The unmasked sum is decoded exactly while every coordinate stays below this (a double's integer range). */
export const DDP_SUM_LIMIT = 2 ** 53;
/** The probability, over all coordinates of all rounds of a plan, that the sum could exceed {@link ddpSumBound}. */
export const DDP_WRAP_FAILURE = 2 ** -64;

/** What a plan's distributed DP is made of (all in the integer units of the masked sum unless said otherwise). */
export interface DdpParameters {
  /** C, in weight units. */
  clip: number;
  /** z. */
  noiseMultiplier: number;
  /** d: parameters of the model. */
  dimension: number;
  /** Fraction bits: s = 2^bits. */
  bits: number;
  scale: number;
  /** μ: the Skellam variance per coordinate that the sum of any t survivors carries at least. */
  variance: number;
  /** Δ2 = C·s + √d/2. */
  l2: number;
  /** Δ1 = min(Δ2², √d·Δ2). */
  l1: number;
}

/** The largest `bits` with z·C·2^bits ≤ 2^{@link DDP_NOISE_STD_BITS}. */
export function ddpScaleBits(clip: number, noiseMultiplier: number): number {
  const zc = clip * noiseMultiplier;
  if (!(zc > 0) || !Number.isFinite(zc)) throw new RangeError('clip and noiseMultiplier must be positive and finite');
  const target = 2 ** DDP_NOISE_STD_BITS;
  let bits = Math.floor(Math.log2(target / zc));
  while (zc * 2 ** (bits + 1) <= target) bits++;
  while (zc * 2 ** bits > target) bits--;
  return bits;
}

/** The mechanism's parameters for clip C, noise multiplier z and a model of `dimension` parameters. */
export function ddpParameters(o: { clip: number; noiseMultiplier: number; dimension: number }): DdpParameters {
  if (!Number.isInteger(o.dimension) || o.dimension < 1) throw new RangeError('dimension must be a positive integer');
  const bits = ddpScaleBits(o.clip, o.noiseMultiplier);
  const scale = 2 ** bits;
  const root = Math.sqrt(o.dimension);
  const l2 = o.clip * scale + root / 2;
  return {
    clip: o.clip,
    noiseMultiplier: o.noiseMultiplier,
    dimension: o.dimension,
    bits,
    scale,
    variance: (o.noiseMultiplier * o.clip * scale) ** 2,
    l2,
    l1: Math.min(l2 * l2, root * l2),
  };
}

/** The Skellam variance one site adds per coordinate when the round unmasks with at least `threshold` survivors: μ/t. */
export function ddpSiteVariance(p: DdpParameters, threshold: number): number {
  if (!Number.isInteger(threshold) || threshold < 1) throw new RangeError('threshold must be a positive integer');
  return p.variance / threshold;
}

/** ε of (ε, δ)-DP after `releases` published rounds (RDP composition of the Skellam bound; 0 before any). */
export function ddpEpsilon(p: DdpParameters, releases: number, delta: number): number {
  return skellamEpsilon({ l2: p.l2, l1: p.l1, variance: p.variance, releases, delta });
}

/** P(Sk(V) ≥ a) ≤ exp(−V·h(a/V)), h(u) = u·asinh(u) − √(1+u²) + 1 (Chernoff on the Skellam MGF exp(V(cosh λ − 1))): the log of it. */
export function skellamLogTail(variance: number, a: number): number {
  if (a <= 0) return 0;
  const u = a / variance;
  return -variance * (u * Math.asinh(u) - Math.sqrt(1 + u * u) + 1);
}

/**
 * A bound on |any coordinate of the unmasked sum| that holds, over `coordinates` coordinates (d × rounds), except with
 * probability {@link DDP_WRAP_FAILURE}: `cohort` sites each contribute at most C·s + ½ per coordinate, and the noise
 * of at most `cohort` sites that each add μ/t, t > 2·cohort/3, has variance below 1.5·μ.
 */
export function ddpSumBound(p: DdpParameters, o: { cohort: number; coordinates: number }): number {
  const variance = 1.5 * p.variance;
  const logBudget = Math.log(DDP_WRAP_FAILURE) - Math.log(2 * o.coordinates);
  let lo = 0;
  let hi = Math.max(1, Math.sqrt(variance));
  while (skellamLogTail(variance, hi) > logBudget) hi *= 2;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (skellamLogTail(variance, mid) > logBudget) lo = mid;
    else hi = mid;
  }
  return o.cohort * (p.clip * p.scale + 0.5) + hi;
}
