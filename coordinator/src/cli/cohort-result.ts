/**
 * Text of a cohort statistics result for the operator CLI: who answered, each site's released counts side by side
 * (a suppressed cell is `<k`, never a number), the combined counts (`≥ n` where a site suppressed its part) and the
 * pooled mean and standard deviation. Every string goes through the table renderer's `printable`.
 */
import type { CohortQueryView, CohortResult, CohortTable } from '@twinfed/shared';
import { renderKeyValues, renderTable, type Column } from './format';

type Cell = CohortResult['combined']['cells'][number];
type Count = NonNullable<Cell['count']>;

const num = (x: number, digits = 4) => String(Number(x.toPrecision(digits)));
const combined = (c: Count | null) => (c === null ? '-' : `${c.atLeast ? '≥' : ''}${c.value}`);
const released = (n: number | null | undefined) => (n === null ? '<k' : n === undefined ? '-' : String(n));

/** One line per query: id, study, title, answers so far. */
export function renderQueryList(queries: readonly CohortQueryView[]): string {
  return renderTable(
    queries,
    [
      { header: 'ID', cell: (q) => q.id },
      { header: 'STUDY', cell: (q) => q.studyId },
      { header: 'TITLE', cell: (q) => q.query.title },
      { header: 'SOURCE', cell: (q) => q.query.source.kind },
      { header: 'ANSWERED', cell: (q) => q.answered, right: true },
      { header: 'REFUSED', cell: (q) => q.refused, right: true },
      { header: 'CREATED', cell: (q) => q.createdAt },
    ],
    '(no cohort queries yet — post one with `twinfed stats query --study <id> --file query.json`)',
  );
}

/** The whole result as text. */
export function renderCohortResult(r: CohortResult): string {
  const q = r.query;
  const by = r.combined.dimensions.map((d) => d.feature.toUpperCase()).join(' × ') || 'ALL ROWS';
  const levels = (cell: { levels: readonly string[] }) => cell.levels.join(' × ') || 'all';
  const answered = r.sites.filter((s) => s.status === 'answered');
  const pending = r.sites.filter((s) => s.status === 'pending');
  const parts = [
    renderKeyValues([
      ['cohort query', q.id],
      ['study', q.studyId],
      ['title', q.query.title],
      ['source', q.query.source.kind],
      ['asked by', `${q.createdBy} at ${q.createdAt}`],
      [
        'sites',
        `${answered.length} answered, ${q.refused} refused, ${pending.length + r.pendingUnnamed} pending` +
          (r.pendingUnnamed ? ` (${r.pendingUnnamed} outside your studies, not named)` : ''),
      ],
    ]),
    renderTable(r.sites, [
      { header: 'SITE', cell: (s) => s.name },
      { header: 'STATUS', cell: (s) => (s.reason ? `${s.status} (${s.reason})` : s.status) },
      { header: 'K', cell: (s) => s.table?.k, right: true },
      { header: 'ε', cell: (s) => (s.table ? (s.table.epsilon === null ? 'exact' : num(s.table.epsilon)) : null) },
      { header: 'SUPPRESSED', cell: (s) => s.table?.suppressedCells, right: true },
    ]),
  ];
  const tables = answered.map((s) => ({ name: s.name, table: s.table! }));
  if (q.query.counts) {
    const siteColumns: Column<{ i: number; cell: Cell }>[] = tables.map(({ name, table }) => ({
      header: name,
      cell: ({ i }) => released(table.cells[i]!.count),
      right: true,
    }));
    const rows = r.combined.cells.map((cell, i) => ({ i, cell }));
    parts.push(
      'Counts per site (<k: suppressed by the site) and combined (≥: a site suppressed its part):',
      renderTable(rows, [
        { header: by, cell: ({ cell }) => levels(cell) },
        ...siteColumns,
        { header: 'COMBINED', cell: ({ cell }) => combined(cell.count), right: true },
      ]).trimEnd(),
      `TOTAL: ${tables.map((t) => `${t.name} ${released(t.table.total)}`).join(', ') || 'no answers'}; combined ${combined(r.combined.total)}`,
    );
  }
  const summaries = q.query.summaries;
  if (r.pool) parts.push(`\n${poolLine(r.pool)}`);
  if (summaries) {
    const secure = summaries.pooled === 'secure';
    for (const feature of summaries.features) {
      if (!secure) {
        parts.push(
          `\n${feature} per site (q: quartiles q1/median/q3; -: withheld, fewer than k values or suppressed):`,
        );
        parts.push(renderSummaries(r, tables, feature, by, levels).trimEnd());
      }
      if (summaries.pooled) {
        parts.push(
          secure
            ? `${feature} pooled securely (the sum of the cohort's masked n, Σx, Σx²; no site's own figures):`
            : `${feature} pooled across sites (from each site's n, Σx, Σx²):`,
        );
        parts.push(
          renderTable(r.combined.cells, [
            { header: by, cell: (cell) => levels(cell) },
            { header: 'N', cell: (cell) => cell.pooled?.[feature]?.n, right: true },
            { header: 'MEAN', cell: (cell) => pooled(cell, feature, (p) => p.mean), right: true },
            { header: 'SD', cell: (cell) => pooled(cell, feature, (p) => p.sd), right: true },
            { header: 'VARIANCE', cell: (cell) => pooled(cell, feature, (p) => p.variance), right: true },
            {
              header: 'SITES',
              cell: (cell) => {
                const p = cell.pooled?.[feature];
                return p ? `${p.sites}${p.withheldSites ? ` (${p.withheldSites} withheld)` : ''}` : null;
              },
            },
          ]).trimEnd(),
        );
      }
    }
  }
  return parts.join('\n');
}

/** The secure pool's state in one line. */
function poolLine(pool: NonNullable<CohortResult['pool']>): string {
  switch (pool.state) {
    case 'waiting':
      return 'secure pool: waiting for every site to answer (its cohort is fixed then)';
    case 'open':
      return `secure pool: open, ${pool.contributed} of ${pool.cohort} cohort sites have sent their masked vector`;
    case 'complete':
      return `secure pool: complete (${pool.cohort} sites)`;
    case 'failed':
      return `secure pool: failed (${pool.code ?? 'COHORT_TOO_SMALL'}: ${pool.cohort} site(s) answered with a table, at least 3 are needed)`;
  }
}

type Pooled = NonNullable<NonNullable<Cell['pooled']>[string]>;
function pooled(cell: Cell, feature: string, pick: (p: Pooled) => number | null): string | null {
  const p = cell.pooled?.[feature];
  const v = p ? pick(p) : null;
  return v === null ? null : num(v);
}

function renderSummaries(
  r: CohortResult,
  tables: ReadonlyArray<{ name: string; table: CohortTable }>,
  feature: string,
  by: string,
  levels: (cell: { levels: readonly string[] }) => string,
): string {
  const text = (table: CohortTable, i: number) => {
    const s = table.cells[i]!.summaries?.[feature];
    if (!s) return null;
    const quartiles = s.median === undefined ? [] : [`q ${num(s.q1!)}/${num(s.median)}/${num(s.q3!)}`];
    const stats = [
      `n ${s.n}`,
      ...(s.mean === undefined ? [] : [`mean ${num(s.mean)}`]),
      ...(s.sd === undefined ? [] : [`sd ${num(s.sd)}`]),
      ...quartiles,
    ];
    return stats.join(', ');
  };
  return renderTable(
    r.combined.cells.map((cell, i) => ({ cell, i })),
    [
      { header: by, cell: ({ cell }) => levels(cell) },
      ...tables.map(({ name, table }) => ({ header: name, cell: ({ i }: { i: number }) => text(table, i) })),
    ],
  );
}
