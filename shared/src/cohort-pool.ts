/**
 * The secure pool of a cohort query (`summaries.pooled: "secure"`): what each site's vector holds and the context its
 * masks are bound to, shared by the sites that build the vector and the coordinator that sums and decodes it.
 *
 * Layout: for every cell of the query's grid (row-major, as {@link cohortGrid}), for every summarised feature (in the
 * query's order): [n, Σx, Σx²] of the site's values — only where the site would release the summary (a released
 * cell with at least k values), else [0, 0, 0]. So the pooled figures cover the same groups as clear pooling.
 */
import { SECAGG_MIN_COHORT } from './crypto/secagg';
import { cohortGrid, type CohortQuery, type CohortTable } from './schemas/cohort';

/** A secure pool needs at least this many sites: a "sum" of two gives each the other's numbers. */
export const COHORT_POOL_MIN_SITES = SECAGG_MIN_COHORT;

/** Whether a query pools its summaries through the secure sum. */
export function poolsSecurely(query: Pick<CohortQuery, 'summaries'>): boolean {
  return query.summaries?.pooled === 'secure';
}

/** The number of ring elements of a query's pool vector: 3 × cells × summarised features. */
export function cohortPoolLength(query: Pick<CohortQuery, 'groupBy' | 'summaries'>): number {
  return 3 * cohortGrid(query).cells.length * (query.summaries?.features.length ?? 0);
}

/** The masks' context of a query's pool: one use per query (a site masks one vector for it, ever). */
export function cohortPoolContext(queryId: string): string {
  return `twinfed/cohort-pool/v1\n${queryId}`;
}

/**
 * A site's pool vector from the table it computed with sums (`sum`, `sumSq` in each released summary): see the module
 * comment. A withheld summary (null) contributes zeros.
 */
export function cohortPoolVector(query: CohortQuery, table: CohortTable): Float64Array {
  const features = query.summaries?.features ?? [];
  const out = new Float64Array(cohortPoolLength(query));
  table.cells.forEach((cell, i) => {
    features.forEach((f, j) => {
      const s = cell.summaries?.[f];
      if (!s) return;
      const at = 3 * (i * features.length + j);
      out[at] = s.n;
      out[at + 1] = s.sum ?? 0;
      out[at + 2] = s.sumSq ?? 0;
    });
  });
  return out;
}

/** The table a site sends under secure pooling: its counts as computed, and no per-site summary at all. */
export function withoutSummaries(table: CohortTable): CohortTable {
  return { ...table, cells: table.cells.map(({ summaries: _omitted, ...cell }) => cell) };
}

/** The [N, ΣΣx, ΣΣx²] of cell `cell` and feature index `feature` in a decoded pool sum. */
export function poolTotals(
  sum: ArrayLike<number>,
  query: Pick<CohortQuery, 'summaries'>,
  cell: number,
  feature: number,
): { n: number; sum: number; sumSq: number } {
  const at = 3 * (cell * (query.summaries?.features.length ?? 0) + feature);
  return { n: Math.round(sum[at]!), sum: sum[at + 1]!, sumSq: Math.max(0, sum[at + 2]!) };
}
