/**
 * The federated Breslow baseline (shared/src/cox-baseline.ts) through the real secure sum equals the Breslow
 * estimator of the pooled rows (breslow.ts) at every point of the plan's grid.
 */
import fc from 'fast-check';
import {
  baselineContext,
  baselineFromSums,
  baselineGrid,
  baselineVector,
  baselineVectorLength,
  decodeSecureSum,
  generateIdentity,
  maskContribution,
  sumMaskedContributions,
} from '@twinfed/shared';
import { breslowBaseline, cumulativeHazardAt } from './breslow';

const SITES = ['site-a', 'site-b', 'site-c'].map((siteId) => ({ siteId, identity: generateIdentity() }));
const cohort = SITES.map((s) => ({ siteId: s.siteId, boxPublicKey: s.identity.box.publicKey }));

interface Row {
  time: number;
  event: number;
  eta: number;
}

function federated(perSite: Row[][], horizonDays: number) {
  const grid = baselineGrid({ horizonDays });
  const length = baselineVectorLength(grid);
  const masked = perSite.map((rows, i) =>
    maskContribution({
      values: baselineVector(
        { eta: rows.map((r) => r.eta), time: rows.map((r) => r.time), event: rows.map((r) => r.event) },
        grid,
      ),
      siteId: SITES[i]!.siteId,
      boxSecretKey: SITES[i]!.identity.box.secretKey,
      cohort,
      context: baselineContext('fed-1', 'fed-1.v3'),
    }),
  );
  return {
    grid,
    baseline: baselineFromSums(decodeSecureSum(sumMaskedContributions(masked, length), { length }), grid),
  };
}

const rowArb = fc.record({
  time: fc.integer({ min: 1, max: 40 }),
  event: fc.integer({ min: 0, max: 1 }),
  eta: fc.double({ min: -2, max: 2, noNaN: true }),
});

describe('federated Breslow baseline through the secure sum', () => {
  test('equals the pooled Breslow estimator at every grid point (whole-day times, one-day bins, ties, censoring)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(rowArb, { minLength: 1, maxLength: 25 }), { minLength: 3, maxLength: 3 }),
        (perSite) => {
          const { grid, baseline } = federated(perSite, 30);
          const pooled = perSite.flat();
          const exact = breslowBaseline({
            eta: pooled.map((r) => r.eta),
            time: pooled.map((r) => r.time),
            event: pooled.map((r) => r.event),
          });
          grid.forEach((t, k) => {
            const want = cumulativeHazardAt(exact, t);
            // fixed point (2^-20 per value) is the only difference
            expect(Math.abs(baseline.cumulativeHazard[k]! - want)).toBeLessThanOrEqual(1e-4 * Math.max(1, want));
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  test('a horizon beyond the bin limit gets wider bins and stays exact at their edges when times fall on edges', () => {
    const grid = baselineGrid({ horizonDays: 3660 });
    expect(grid).toHaveLength(366);
    expect(grid[0]).toBe(10);
    expect(grid[365]).toBe(3660);
    const perSite: Row[][] = [
      [
        { time: 10, event: 1, eta: 0 },
        { time: 30, event: 0, eta: 0.5 },
      ],
      [{ time: 20, event: 1, eta: -0.3 }],
      [
        { time: 20, event: 1, eta: 0.2 },
        { time: 5000, event: 0, eta: 1 },
      ],
    ];
    const { baseline } = federated(perSite, 3660);
    const pooled = perSite.flat();
    const exact = breslowBaseline({
      eta: pooled.map((r) => r.eta),
      time: pooled.map((r) => r.time),
      event: pooled.map((r) => r.event),
    });
    for (const t of [10, 20, 30, 3660])
      expect(baseline.cumulativeHazard[grid.indexOf(t)]).toBeCloseTo(cumulativeHazardAt(exact, t), 5);
  });
});
