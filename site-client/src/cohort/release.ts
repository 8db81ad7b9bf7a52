/**
 * The table a site releases for a cohort query, computed locally. Order of operations (as population reports):
 * 1. every row goes to the cell its levels name (a row with a missing or unlisted value in a grouping is left out);
 * 2. exact counts per cell; with ε, each cell gets Laplace noise of scale 1/ε (one patient is in one cell), rounded
 *    and clamped at 0 ({@link noisyCounts}); the total is the sum of those released cell values;
 * 3. primary and secondary suppression at the site's k ({@link suppressLine} for one dimension, {@link suppressTable}
 *    for two): a count below k, and any count the released ones would reveal, is null;
 * 4. summaries only for cells whose count is released and whose feature has at least k values; others are null.
 * Nothing below k is ever in the result, and the result never holds a row.
 */
import {
  TwinfedError,
  cohortGrid,
  levelIndex,
  type CohortCell,
  type CohortQuery,
  type CohortSummary,
  type CohortTable,
} from '@twinfed/shared';
import type { UniformSource } from '../population/noise';
import { noisyCounts } from '../population/report';
import { suppressLine, suppressTable } from '../population/suppression';
import type { CohortRows } from './rows';

/** Options of {@link releaseCohortTable}. */
interface ReleaseOptions {
  query: CohortQuery;
  rows: CohortRows;
  /** The site's floor: max(query k, policy k, 10). */
  k: number;
  /** The site's Laplace ε for counts; absent: exact counts. */
  epsilon?: number;
  /** Uniform source of the noise: `cryptoUniform()` for real answers, a seeded one in tests. */
  rng: UniformSource;
}

/** The features of `query` the rows lack (the site cannot answer it: COHORT_QUERY_UNANSWERABLE). */
function missingFeatures(query: CohortQuery, rows: CohortRows): string[] {
  const wanted = [...query.groupBy.map((g) => g.feature), ...(query.summaries?.features ?? [])];
  return [...new Set(wanted)].filter((f) => !rows.columns.has(f));
}

/** The released table (see the module comment). Throws COHORT_QUERY_UNANSWERABLE when the rows lack a feature. */
export function releaseCohortTable(options: ReleaseOptions): CohortTable {
  const { query, rows, k, epsilon, rng } = options;
  const missing = missingFeatures(query, rows);
  if (missing.length > 0)
    throw new TwinfedError(
      'COHORT_QUERY_UNANSWERABLE',
      `The site's data have no feature ${missing.map((f) => `"${f}"`).join(', ')} (data: ${rows.description}).`,
    );
  const grid = cohortGrid(query);
  const R = query.groupBy.length >= 1 ? grid.dimensions[0]!.levels.length : 1;
  const C = query.groupBy.length === 2 ? grid.dimensions[1]!.levels.length : 1;
  const members: number[][] = Array.from({ length: R * C }, () => []);
  const columns = query.groupBy.map((g) => rows.columns.get(g.feature)!);
  for (let i = 0; i < rows.n; i++) {
    const at = query.groupBy.map((g, d) => levelIndex(g, columns[d]![i]!));
    if (at.some((x) => x < 0)) continue;
    members[(at[0] ?? 0) * C + (at[1] ?? 0)]!.push(i);
  }
  const exact = Array.from({ length: R }, (_, r) => Array.from({ length: C }, (_, c) => members[r * C + c]!.length));
  const released = noisyCounts({ exact, epsilon }, rng);
  const hide = suppressionOf(query.groupBy.length, released, exact, k);
  const flat = released.flat();
  const cells: CohortCell[] = grid.cells.map((levels, idx) => {
    const hidden = hide.cells[idx]!;
    const cell: CohortCell = { levels };
    if (query.counts) cell.count = hidden ? null : flat[idx]!;
    if (query.summaries) {
      const summaries: Record<string, CohortSummary | null> = {};
      for (const f of query.summaries.features)
        summaries[f] = hidden ? null : summarise(rows.columns.get(f)!, members[idx]!, k, query.summaries);
      cell.summaries = summaries;
    }
    return cell;
  });
  const sum = flat.reduce((a, b) => a + b, 0);
  return {
    k,
    epsilon: epsilon ?? null,
    cells,
    ...(query.counts ? { total: hide.total ? null : sum } : {}),
    suppressedCells: cells.filter((c) => c.count === null).length,
  };
}

/**
 * Which cells (row-major) and whether the total are hidden: a one-way table (or one cell) by {@link suppressLine}, a
 * two-way one by {@link suppressTable} — conservatively as if its row and column totals were released too.
 */
function suppressionOf(
  dimensions: number,
  released: number[][],
  exact: number[][],
  k: number,
): { cells: boolean[]; total: boolean } {
  if (dimensions < 2) {
    const line = suppressLine({ released: released.flat(), exact: exact.flat(), k });
    return { cells: line.cells, total: line.total };
  }
  const table = suppressTable({ released, exact, k });
  return { cells: table.cells.flat(), total: table.all };
}

/** One feature's summary over the rows of one cell, or null with fewer than k non-missing values. */
function summarise(
  column: Float64Array,
  rows: readonly number[],
  k: number,
  asked: NonNullable<CohortQuery['summaries']>,
): CohortSummary | null {
  const xs = rows.map((i) => column[i]!).filter((x) => Number.isFinite(x));
  if (xs.length < k) return null;
  const n = xs.length;
  const sum = xs.reduce((a, x) => a + x, 0);
  const mean = sum / n;
  const out: CohortSummary = { n };
  if (asked.statistics.includes('mean')) out.mean = mean;
  if (asked.statistics.includes('sd')) out.sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  if (asked.statistics.includes('quartiles')) {
    const sorted = [...xs].sort((a, b) => a - b);
    out.q1 = quantile(sorted, 0.25);
    out.median = quantile(sorted, 0.5);
    out.q3 = quantile(sorted, 0.75);
  }
  if (asked.pooled) {
    out.sum = sum;
    out.sumSq = xs.reduce((a, x) => a + x * x, 0);
  }
  return out;
}

/** The p-quantile of sorted values by linear interpolation between order statistics (Hyndman & Fan type 7, R's default). */
export function quantile(sorted: readonly number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}
