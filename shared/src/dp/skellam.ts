/**
 * The distributed Skellam mechanism (Agarwal, Kairouz & Liu, "The Skellam Mechanism for Differentially Private
 * Federated Learning", NeurIPS 2021), for differential privacy together with secure aggregation: each site clips its
 * update, scales it to integers and adds integer Skellam noise; a sum of independent Skellam variables is Skellam, so
 * the sum the coordinator unmasks carries the noise of every site that contributed, and no one — the coordinator
 * included — ever sees a site's update without noise.
 *
 * Sk(μ) = Pois(μ/2) − Pois(μ/2) has variance μ. For integer vectors with L2 sensitivity Δ2 and L1 sensitivity Δ1 and
 * per-coordinate Skellam variance μ, Theorem 3.5 / Corollary 3.6 bound the Rényi DP of order α (integer > 1):
 *   ε(α) ≤ α·Δ2²/(2μ) + min{ ((2α−1)·Δ2² + 6·Δ1)/(4μ²), 3·Δ1/(2μ) }
 * The first term is the Gaussian mechanism's; the min is the price of being discrete. T releases add up; RDP becomes
 * (ε, δ)-DP by Balle et al. 2020's conversion: ε = min_α RDP(α) + log((α−1)/α) − (log δ + log α)/(α−1).
 *
 * The Poisson sampler is @stdlib/random-base-poisson, driven by the caller's uniform source (the OS CSPRNG in the
 * product; a seeded one only in tests).
 */
import poisson from '@stdlib/random-base-poisson';
import type { Uniform } from '../crypto/uniform';

/** Rényi orders the accountant minimises over. */
export const RDP_ORDERS: readonly number[] = [
  ...Array.from({ length: 63 }, (_, i) => i + 2),
  ...Array.from({ length: 121 }, (_, i) => 72 + i * 8),
];

/** Adds Sk(variance) to every element of `values` (integers stay integers). Throws RangeError on a bad variance. */
export function addSkellamNoise(values: Float64Array, opts: { variance: number; uniform: Uniform }): void {
  const { variance } = opts;
  if (!(variance >= 0) || !Number.isFinite(variance) || variance > 2 ** 40)
    throw new RangeError(`Skellam variance must be in [0, 2^40], got ${variance}`);
  if (variance === 0) return;
  const draw = poisson.factory(variance / 2, { prng: opts.uniform });
  for (let i = 0; i < values.length; i++) values[i]! += draw() - draw();
}

/** Options of {@link skellamRdp}. */
interface SkellamRdpOptions {
  /** Rényi order, an integer > 1. */
  alpha: number;
  /** L2 sensitivity of one release, in the integer units of the noise. */
  l2: number;
  /** L1 sensitivity of one release, in the same units. */
  l1: number;
  /** Per-coordinate variance μ of the Skellam noise in the release. */
  variance: number;
}

/** The RDP of order α of one Skellam release (the bound above). */
export function skellamRdp(o: SkellamRdpOptions): number {
  const { alpha: a, l2, l1, variance: mu } = o;
  if (!Number.isInteger(a) || a < 2) throw new RangeError('alpha must be an integer > 1');
  if (!(mu > 0) || !(l2 >= 0) || !(l1 >= 0)) throw new RangeError('variance must be > 0 and sensitivities ≥ 0');
  return (a * l2 * l2) / (2 * mu) + Math.min(((2 * a - 1) * l2 * l2 + 6 * l1) / (4 * mu * mu), (3 * l1) / (2 * mu));
}

/** (ε, δ) from RDP values at {@link RDP_ORDERS} (Balle et al. 2020, as Opacus and TensorFlow Privacy convert). */
export function rdpToEpsilon(rdp: readonly number[], delta: number, orders: readonly number[] = RDP_ORDERS): number {
  if (!(delta > 0 && delta < 1)) throw new RangeError('delta must be in (0, 1)');
  let best = Number.POSITIVE_INFINITY;
  rdp.forEach((r, i) => {
    const a = orders[i]!;
    best = Math.min(best, r + Math.log((a - 1) / a) - (Math.log(delta) + Math.log(a)) / (a - 1));
  });
  return Math.max(0, best);
}

/** Options of {@link skellamEpsilon}. */
interface SkellamEpsilonOptions {
  l2: number;
  l1: number;
  variance: number;
  /** Releases so far (published rounds). */
  releases: number;
  delta: number;
}

/** ε after `releases` Skellam releases (0 before any). */
export function skellamEpsilon(o: SkellamEpsilonOptions): number {
  if (!Number.isInteger(o.releases) || o.releases < 0) throw new RangeError('releases must be a non-negative integer');
  if (o.releases === 0) return 0;
  return rdpToEpsilon(
    RDP_ORDERS.map((alpha) => o.releases * skellamRdp({ alpha, l2: o.l2, l1: o.l1, variance: o.variance })),
    o.delta,
  );
}
