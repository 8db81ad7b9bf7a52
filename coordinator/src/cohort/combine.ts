/**
 * How the coordinator combines the sites' released cohort tables: counts are summed over the sites that released them
 * (a part a site suppressed makes the sum a lower bound, never a guess), and pooled moments come from each site's
 * n, Σx, Σx² by the exact combination formula. Pure functions; no I/O.
 */

/** The combined count of one cell: the sum of the released parts; `atLeast` when any part was suppressed. */
interface CombinedCount {
  value: number;
  atLeast: boolean;
  /** Sites whose released part is in `value`. */
  sites: number;
  /** Sites that suppressed their part. */
  suppressedSites: number;
}

/**
 * Sums the parts of one cell across sites: a number is a released count, null a suppressed one. The result is exact
 * when nothing was suppressed, else a lower bound ("≥ value"): a suppressed part is some count, possibly 0, and is
 * never estimated.
 */
export function combineCounts(parts: readonly (number | null)[]): CombinedCount {
  let value = 0;
  let sites = 0;
  let suppressedSites = 0;
  for (const p of parts) {
    if (p === null) suppressedSites++;
    else {
      value += p;
      sites++;
    }
  }
  return { value, atLeast: suppressedSites > 0, sites, suppressedSites };
}

/** One site's sufficient statistics of a feature in a cell: count, Σx, Σx². */
export interface Moments {
  n: number;
  sum: number;
  sumSq: number;
}

/** The pooled mean and sample variance (n − 1) of the union of the sites' values. */
interface PooledMoments {
  n: number;
  mean: number;
  /** Null with fewer than two values. */
  variance: number | null;
  sd: number | null;
}

/**
 * Pools the sites' sums exactly as if their values were one sample: N = Σnᵢ, mean = ΣΣx / N, and the sum of squared
 * deviations M2 = Σᵢ M2ᵢ + Σᵢ nᵢ (meanᵢ − mean)², with each site's M2ᵢ = Σx²ᵢ − (Σxᵢ)² / nᵢ (Chan et al.'s parallel
 * combination, algebraically equal to ΣΣx² − (ΣΣx)² / N but without its cancellation between sites). Variance is
 * M2 / (N − 1). Sites with n = 0 add nothing; null when no value is left.
 */
export function poolMoments(parts: readonly Moments[]): PooledMoments | null {
  const used = parts.filter((p) => p.n > 0);
  const n = used.reduce((a, p) => a + p.n, 0);
  if (n === 0) return null;
  const mean = used.reduce((a, p) => a + p.sum, 0) / n;
  let m2 = 0;
  for (const p of used) {
    const siteMean = p.sum / p.n;
    m2 += Math.max(0, p.sumSq - (p.sum * p.sum) / p.n) + p.n * (siteMean - mean) ** 2;
  }
  const variance = n > 1 ? m2 / (n - 1) : null;
  return { n, mean, variance, sd: variance === null ? null : Math.sqrt(variance) };
}
