/**
 * Privacy accounting for the Gaussian mechanism repeated without subsampling (central DP: every round releases
 * one noisy mean). T releases with noise multiplier z (noise std / L2 sensitivity) compose *exactly* to μ-GDP with
 * μ = √T / z (Dong, Roth & Su 2019, Gaussian differential privacy), and μ-GDP is (ε, δ)-DP exactly when
 *   δ(ε) = Φ(−ε/μ + μ/2) − e^ε · Φ(−ε/μ − μ/2)     (Balle & Wang 2018, the analytic Gaussian mechanism).
 * So ε is found by bisection on that decreasing function: the tight value, not an RDP upper bound.
 *
 * Why by hand: it is a closed form and a bisection (~40 lines); the npm accountants are for TensorFlow Privacy /
 * Opacus ports with subsampling, which twinfed does not claim (its site sampling is seeded, hence public).
 */

/** log erfc(x) for x ≥ 0: Numerical Recipes' Chebyshev fit erfc(x) = t·exp(−x² + P(t)), relative error < 1.2e-7. */
function logErfcPositive(x: number): number {
  const t = 1 / (1 + 0.5 * x);
  const p =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) - x * x + p;
}

/** log Φ(x), the standard normal CDF, accurate far into the lower tail. */
function logNormalCdf(x: number): number {
  const z = -x / Math.SQRT2; // Φ(x) = erfc(z) / 2
  if (z >= 0) return Math.log(0.5) + logErfcPositive(z);
  return Math.log(1 - 0.5 * Math.exp(logErfcPositive(-z)));
}

/** δ(ε) of μ-GDP. */
function gdpDelta(eps: number, mu: number): number {
  return Math.exp(logNormalCdf(-eps / mu + mu / 2)) - Math.exp(eps + logNormalCdf(-eps / mu - mu / 2));
}

/** Options of {@link gaussianDpEpsilon}. */
interface GaussianDpOptions {
  /** z: noise standard deviation divided by the L2 sensitivity of each release (> 0). */
  noiseMultiplier: number;
  /** How many noisy releases (published rounds) so far (≥ 0). */
  releases: number;
  /** Target δ, in (0, 1). */
  delta: number;
}

/**
 * The ε of (ε, δ)-DP spent by `releases` Gaussian releases with noise multiplier `noiseMultiplier` (no
 * subsampling): the exact value up to the erfc fit (about 1e-6 relative). 0 when nothing was released. Throws RangeError on invalid input.
 */
export function gaussianDpEpsilon(opts: GaussianDpOptions): number {
  const { noiseMultiplier: z, releases: t, delta } = opts;
  if (!(z > 0) || !Number.isFinite(z)) throw new RangeError('noiseMultiplier must be a positive finite number');
  if (!Number.isInteger(t) || t < 0) throw new RangeError('releases must be a non-negative integer');
  if (!(delta > 0 && delta < 1)) throw new RangeError('delta must be in (0, 1)');
  if (t === 0) return 0;
  const mu = Math.sqrt(t) / z;
  if (gdpDelta(0, mu) <= delta) return 0;
  let lo = 0;
  let hi = 1;
  while (gdpDelta(hi, mu) > delta) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (gdpDelta(mid, mu) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}
