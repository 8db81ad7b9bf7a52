/**
 * Does a site's released table answer the query it claims to answer? Checked before it is stored, so the combined
 * table only ever adds up cells of one grid: the same cells in the same order, a k floor of at least
 * max(query k, {@link COHORT_MIN_K}), counts exactly when asked, and summaries with exactly the asked statistics
 * (n, Σx and Σx² only with `pooled`). The table's own schema has already checked that nothing released is below k.
 */
import {
  COHORT_MIN_K,
  TwinfedError,
  cohortGrid,
  poolsSecurely,
  type CohortQuery,
  type CohortTable,
} from '@twinfed/shared';

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The fields a released summary carries for `query` (besides `n`). */
function summaryFields(query: Pick<CohortQuery, 'summaries'>): string[] {
  const s = query.summaries;
  if (!s) return [];
  return [
    ...(s.statistics.includes('mean') ? ['mean'] : []),
    ...(s.statistics.includes('sd') ? ['sd'] : []),
    ...(s.statistics.includes('quartiles') ? ['q1', 'median', 'q3'] : []),
    ...(s.pooled === true ? ['sum', 'sumSq'] : []),
  ];
}

/** The site's k floor for `query`: at least the query's k and {@link COHORT_MIN_K}. */
function minimumK(query: Pick<CohortQuery, 'k'>): number {
  return Math.max(COHORT_MIN_K, query.k ?? 0);
}

/** Throws VALIDATION_FAILED, naming the first misfit, when `table` is not an answer to `query`. */
export function checkTableFits(query: CohortQuery, table: CohortTable): void {
  const fail = (message: string): never => {
    throw new TwinfedError('VALIDATION_FAILED', `The table does not answer this query: ${message}.`);
  };
  if (table.k < minimumK(query)) fail(`its k is ${table.k}, below the query's floor of ${minimumK(query)}`);
  const grid = cohortGrid(query);
  if (table.cells.length !== grid.cells.length) fail(`it has ${table.cells.length} cells, not ${grid.cells.length}`);
  if (query.counts !== (table.total !== undefined))
    fail(query.counts ? 'the total is missing' : 'counts were not asked');
  const fields = summaryFields(query);
  const features = query.summaries?.features ?? [];
  table.cells.forEach((cell, i) => {
    const want = grid.cells[i]!;
    if (!same(cell.levels, want)) fail(`cell ${i + 1} is [${cell.levels.join(', ')}], not [${want.join(', ')}]`);
    if (query.counts !== (cell.count !== undefined))
      fail(`cell ${i + 1} ${query.counts ? 'has no count' : 'has a count that was not asked'}`);
    if (!query.summaries) {
      if (cell.summaries !== undefined) fail(`cell ${i + 1} has summaries that were not asked`);
      return;
    }
    if (poolsSecurely(query)) {
      // Under secure pooling a per-site n, mean or sd would give the site's Σx and Σx² back: none may be sent.
      if (cell.summaries !== undefined) fail(`cell ${i + 1} has per-site summaries, but the query pools securely`);
      return;
    }
    if (!same(Object.keys(cell.summaries ?? {}).sort(), [...features].sort()))
      fail(`cell ${i + 1} must summarise exactly ${features.join(', ')}`);
    for (const [feature, s] of Object.entries(cell.summaries ?? {})) {
      if (s === null) continue;
      const have = Object.keys(s).filter((k) => k !== 'n');
      if (!same(have.sort(), [...fields].sort()))
        fail(`the summary of ${feature} in cell ${i + 1} must give ${fields.join(', ') || 'n only'}`);
    }
  });
}
