/**
 * The cohort rule of the statistics secure sum, the same as secure aggregation's (crypto/secagg): at least
 * SECAGG_MIN_COHORT sites, and a sum that covers the local threshold t = max(minSites, ⌊2n/3⌋ + 1). The secure sum
 * has no dropout recovery — it completes only with all n members — so the rule comes down to n ≥ max(3, minSites).
 * Site and coordinator both apply it (the site from the plan it verified and the cohort it was shown).
 */
import { TwinfedError } from '../errors';
import { SECAGG_MIN_COHORT, secaggThreshold } from './secagg';

/** Throws `SECAGG_COHORT_TOO_SMALL` unless a statistics cohort of `size` sites may be summed under a plan's `minSites`. */
export function assertStatsCohort(size: number, minSites: number): void {
  if (size < SECAGG_MIN_COHORT || secaggThreshold(size, minSites) > size) {
    throw new TwinfedError(
      'SECAGG_COHORT_TOO_SMALL',
      `A secure sum of statistics needs at least ${Math.max(SECAGG_MIN_COHORT, minSites)} sites in its cohort (3, and the plan's minSites), not ${size}: a smaller sum would give away too much of one site's data.`,
    );
  }
}
