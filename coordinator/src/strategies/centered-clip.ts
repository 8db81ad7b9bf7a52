import { TwinfedError } from '@twinfed/shared';
import { type KeptUpdate, robustStrategy } from './robust';
import type { Strategy } from './types';

/** Name of the strategy state: the previous round's aggregated delta, where clipping is centred. */
export const CENTER = 'center';

/**
 * L iterations of centred clipping from `center`: v ← v + (1/n)·Σᵢ clip(xᵢ − v, τ), clip(u, τ) = u·min(1, τ/‖u‖).
 * `deltas` are the sites' deltas from the round's base (float64). Each iteration moves v by at most τ, and one
 * site's term is bounded by τ/n whatever it sent. Returns v and how many sites the first iteration clipped.
 */
export function centeredClipping(opts: {
  deltas: readonly Float64Array[];
  center: Float64Array;
  radius: number;
  iterations: number;
}): { center: Float64Array; clipped: number } {
  const { deltas, radius } = opts;
  const n = deltas.length;
  const size = opts.center.length;
  const v = Float64Array.from(opts.center);
  const dev = new Float64Array(size);
  let clipped = 0;
  for (let l = 0; l < opts.iterations; l++) {
    const step = new Float64Array(size);
    for (const x of deltas) {
      let s = 0;
      for (let j = 0; j < size; j++) {
        dev[j] = x[j]! - v[j]!;
        s += dev[j]! * dev[j]!;
      }
      const norm = Math.sqrt(s);
      const scale = norm > radius ? radius / norm : 1;
      if (l === 0 && norm > radius) clipped++;
      for (let j = 0; j < size; j++) step[j]! += scale * dev[j]!;
    }
    for (let j = 0; j < size; j++) v[j]! += step[j]! / n;
  }
  return { center: v, clipped };
}

/**
 * Centred clipping (Karimireddy, He & Jaggi, "Learning from History for Byzantine Robust Optimization", ICML 2021):
 * the aggregate starts from the previous round's aggregated update (zero before round 1) and moves towards each
 * site's delta by at most `radius` per site, averaged over the n sites, for `iterations` rounds of clipping
 * (the paper's L; 1 suffices there). Whatever f sites send, they shift a round's result by at most 2·f·L·τ/n
 * from what other values would have given; the honest sites keep pulling with their full weight when they lie
 * within τ of the centre. Unweighted (each site one vote) as in the paper. Uses history, so a site whose updates
 * oppose the consensus round after round is held back every round, yet the centre is only the previous aggregate:
 * no site is excluded for good. Keeps all updates: O(sites × model) memory; state: one vector of model size.
 */
export function centeredClip(opts: { radius: number; iterations: number }): Strategy {
  const { radius, iterations } = opts;
  if (!(radius > 0) || !Number.isFinite(radius))
    throw new TwinfedError('INVALID_PLAN', 'centeredclip needs a positive, finite radius.');
  if (!Number.isInteger(iterations) || iterations < 1)
    throw new TwinfedError('INVALID_PLAN', 'centeredclip needs an integer iterations ≥ 1.');
  return robustStrategy({
    name: 'centeredclip',
    minResults: 1,
    stateNames: [CENTER],
    rule: (updates: readonly KeptUpdate[], ctx) => {
      const g = ctx.global;
      const deltas = updates.map((u) => Float64Array.from(u.weights, (w, j) => w - g[j]!));
      const previous = ctx.state[CENTER];
      if (!previous) throw new TwinfedError('INTERNAL', 'centeredclip was given a state without its centre.');
      const { center, clipped } = centeredClipping({ deltas, center: previous, radius, iterations });
      const weights = Float32Array.from(g, (w, j) => w + center[j]!);
      return {
        weights,
        contributors: updates.map((u) => u.siteId),
        metrics: { centeredClipClipped: clipped, centeredClipRadius: radius },
        state: { [CENTER]: center },
      };
    },
  });
}
