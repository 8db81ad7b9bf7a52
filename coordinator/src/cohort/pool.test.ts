import fc from 'fast-check';
import {
  CohortQuerySchema,
  cohortPoolContext,
  cohortPoolVector,
  decodeSecureSum,
  generateIdentity,
  maskContribution,
  sumMaskedContributions,
  type CohortSummary,
  type CohortTable,
} from '@twinfed/shared';
import { poolMoments, type Moments } from './combine';
import { pooledFromSum } from './pool';

const K = 10;
const query = CohortQuerySchema.parse({
  title: 'property',
  source: { kind: 'csv' },
  groupBy: [{ kind: 'category', feature: 'g', values: [0, 1] }],
  summaries: { features: ['x', 'y'], statistics: ['mean'], pooled: 'secure' },
});
const FEATURES = ['x', 'y'];

/** A site's summary of some values as its release computes it: withheld (null) under k values. */
function summary(xs: readonly number[]): CohortSummary | null {
  if (xs.length < K) return null;
  const sum = xs.reduce((a, x) => a + x, 0);
  return { n: xs.length, mean: sum / xs.length, sum, sumSq: xs.reduce((a, x) => a + x * x, 0) };
}

/** A site's table (with its sums) from its values per cell and feature. */
function table(values: number[][][]): CohortTable {
  return {
    k: K,
    epsilon: null,
    cells: values.map((perFeature, i) => ({
      levels: [String(i)],
      summaries: Object.fromEntries(FEATURES.map((f, j) => [f, summary(perFeature[j]!)])),
    })),
    suppressedCells: 0,
  };
}

const value = fc.double({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true });
/** Per site: 2 cells × 2 features, each 0–40 values (under 10: withheld). */
const site = fc.array(fc.array(fc.array(value, { maxLength: 40 }), { minLength: 2, maxLength: 2 }), {
  minLength: 2,
  maxLength: 2,
});

describe('secure pooling of cohort summaries', () => {
  test('the pooled mean and variance from the masked sum equal clear pooling within fixed-point error', () => {
    const identities = Array.from({ length: 7 }, () => generateIdentity());
    fc.assert(
      fc.property(fc.array(site, { minLength: 3, maxLength: 7 }), (data) => {
        const cohort = data.map((_, i) => ({ siteId: `site-${i}`, boxPublicKey: identities[i]!.box.publicKey }));
        const tables = data.map(table);
        const length = 3 * 2 * FEATURES.length;
        const masked = tables.map((t, i) =>
          maskContribution({
            values: cohortPoolVector(query, t),
            siteId: `site-${i}`,
            boxSecretKey: identities[i]!.box.secretKey,
            cohort,
            context: cohortPoolContext('cq-prop'),
          }),
        );
        const sum = decodeSecureSum(sumMaskedContributions(masked, length), { length });
        const pooled = pooledFromSum(query, sum, data.length);
        for (let i = 0; i < 2; i++)
          FEATURES.forEach((f) => {
            const parts: Moments[] = tables.flatMap((t) => {
              const s = t.cells[i]!.summaries![f];
              return s ? [{ n: s.n, sum: s.sum!, sumSq: s.sumSq! }] : [];
            });
            const clear = poolMoments(parts);
            const secure = pooled.cells[i]![f]!;
            if (clear === null) return expect(secure).toBeNull();
            // Each site's Σx and Σx² is rounded to 2^-20 (error ≤ 2^-21 each); the variance from totals also
            // loses a few ulps of ΣΣx² to cancellation.
            const m = data.length;
            const round = m * 2 ** -21;
            const s2 = parts.reduce((a, p) => a + p.sumSq, 0);
            expect(secure.n).toBe(clear.n);
            expect(Math.abs(secure.mean - clear.mean)).toBeLessThanOrEqual(
              round / clear.n + 1e-12 * Math.abs(clear.mean),
            );
            if (clear.variance === null) return expect(secure.variance).toBeNull();
            const tolerance = (round * (2 + 2 * Math.abs(clear.mean)) + 64 * 2 ** -52 * s2) / (clear.n - 1);
            expect(Math.abs(secure.variance! - clear.variance)).toBeLessThanOrEqual(tolerance);
            expect(secure).toMatchObject({ sites: m, withheldSites: null });
          });
      }),
      { numRuns: 60 },
    );
  });
});
