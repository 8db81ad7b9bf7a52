/** Cohort queries and released tables in words, for the people at a site who decide what leaves it. */
import { cohortGrid, type CohortAnswer, type CohortGroupBy, type CohortQuery } from '@twinfed/shared';
import type { CohortVerdict } from './policy';

const num = (x: number) => String(Number(x.toPrecision(4)));

function grouping(g: CohortGroupBy): string {
  switch (g.kind) {
    case 'ageBand':
      return `age bands of ${g.feature} cut at ${g.cuts.join(', ')}`;
    case 'category':
      return `${g.feature} = ${g.values.map((v, i) => (g.labels?.[i] ? `${v} (${g.labels[i]})` : String(v))).join(', ')}`;
    case 'bins':
      return `${g.feature} cut at ${g.cuts.join(', ')}`;
  }
}

/** The query in words, one fact per line. */
export function describeQuery(query: CohortQuery): string[] {
  const grid = cohortGrid(query);
  const source =
    query.source.kind === 'twins'
      ? `twins consenting to model training${query.source.derive.length ? `, with ${query.source.derive.map((d) => `${d.name} (${d.kind})`).join(', ')} derived` : ''}${query.source.at ? `, at ${query.source.at}` : ''}`
      : 'tabular rows (CSV or Fed-Heart-Disease), with the outcome as `label`';
  const s = query.summaries;
  return [
    `source:     ${source}`,
    `grouped by: ${query.groupBy.map(grouping).join('; ') || 'nothing (one cell: all rows)'} → ${grid.cells.length} cell(s)`,
    `counts:     ${query.counts ? 'yes' : 'no'}`,
    `summaries:  ${!s ? 'none' : s.pooled === 'secure' ? `pooled securely: no per-site summary; n, Σx, Σx² of ${s.features.join(', ')} leave only masked, in the secure pool` : `${s.statistics.join(', ')} of ${s.features.join(', ')}${s.pooled ? '; n, Σx, Σx² for pooled figures' : ''}`}`,
    `asked k:    ${query.k ?? 'none (the site applies its own, at least 10)'}`,
  ];
}

/** The verdict in one line. */
export function verdictLine(v: CohortVerdict): string {
  return `${v.verdict} (${v.reasons.join('; ')})`;
}

/** What leaves the site, as a table: a suppressed count is `<k`, a withheld summary `-`. */
export function describeAnswer(query: CohortQuery, answer: CohortAnswer): string[] {
  if (answer.kind === 'refusal') return [`a refusal: ${answer.reason} (no data)`];
  const t = answer.table;
  const grid = cohortGrid(query);
  const head = grid.dimensions.map((d) => d.feature).join(' × ') || 'all rows';
  const lines = [
    `k ${t.k}, ${t.epsilon === null ? 'exact counts' : `Laplace noise ε ${num(t.epsilon)} on counts`}, ${t.suppressedCells} of ${t.cells.length} cell(s) suppressed`,
  ];
  for (const cell of t.cells) {
    const parts = [cell.levels.join(' × ') || head];
    if (cell.count !== undefined) parts.push(`count ${cell.count === null ? '<k' : cell.count}`);
    for (const [f, s] of Object.entries(cell.summaries ?? {})) {
      if (!s) {
        parts.push(`${f} -`);
        continue;
      }
      const stats = [`n ${s.n}`];
      if (s.mean !== undefined) stats.push(`mean ${num(s.mean)}`);
      if (s.sd !== undefined) stats.push(`sd ${num(s.sd)}`);
      if (s.median !== undefined) stats.push(`q ${num(s.q1!)}/${num(s.median)}/${num(s.q3!)}`);
      if (s.sum !== undefined) stats.push(`Σx ${num(s.sum)} Σx² ${num(s.sumSq!)}`);
      parts.push(`${f} ${stats.join(' ')}`);
    }
    lines.push(`  ${parts.join('  ')}`);
  }
  if (t.total !== undefined) lines.push(`  total ${t.total === null ? '<k' : t.total}`);
  return lines;
}
