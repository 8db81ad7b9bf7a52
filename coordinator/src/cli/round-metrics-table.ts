/** Text tables of a federation's progress: per round (mean and range over sites) and per site × round. */
import { renderTable, type Column } from './format';
import type { MetricSummary, RoundMetrics } from './round-metrics';

/** Metrics shown in the tables (JSON has every metric). */
const SHOWN = [
  { name: 'accuracy', label: 'ACCURACY' },
  { name: 'auc', label: 'AUC' },
] as const;

/** Rounds per block of the per-site table (keeps lines under ~120 characters). */
const ROUNDS_PER_BLOCK = 6;

const fixed = (v: number): string => v.toFixed(3);

/** 2 → `2nd`, 4 → `4th`, 11 → `11th`. */
function ordinal(n: number): string {
  const tens = n % 100;
  const suffix =
    tens >= 11 && tens <= 13 ? 'th' : (({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/** `0.750 (0.700–0.800)`; `…; n/a: 1` when some sites lack the metric; `n/a: 2` when all do; `-` when none evaluated. */
function summaryCell(s: MetricSummary | undefined, evaluatedBy: number): string {
  if (evaluatedBy === 0) return '-';
  if (!s || s.mean === null || s.min === null || s.max === null) return `n/a: ${s?.missing ?? evaluatedBy}`;
  const value = `${fixed(s.mean)} (${fixed(s.min)}–${fixed(s.max)})`;
  return s.missing > 0 ? `${value}; n/a: ${s.missing}` : value;
}

const roundColumns: Column<RoundMetrics>[] = [
  { header: 'ROUND', cell: (r) => r.round, right: true },
  { header: 'STATE', cell: (r) => r.state },
  { header: 'RECEIVED', cell: (r) => (r.selected === null ? null : `${r.received}/${r.selected}`), right: true },
  { header: 'VERSION', cell: (r) => r.versionId },
  { header: 'EVALUATED', cell: (r) => (r.versionId ? r.evaluatedBy : null), right: true },
  ...SHOWN.map((m): Column<RoundMetrics> => ({
    header: m.label,
    cell: (r) => summaryCell(r.metrics[m.name], r.evaluatedBy),
  })),
  { header: 'FAILURE', cell: (r) => r.failureReason },
];

/** The rounds table with its legend, and a note when rows were thinned. */
export function renderRoundMetrics(
  rows: readonly RoundMetrics[],
  shown: readonly RoundMetrics[],
  step: number,
): string {
  const legend =
    'Rounds (ACCURACY, AUC: of the round’s version on the sites’ own held-out data, mean over the EVALUATED sites (min–max)):\n';
  const note =
    shown.length < rows.length
      ? `(${shown.length} of ${rows.length} rounds shown: the first, every ${ordinal(step)} and the last; --all shows every round)\n`
      : '';
  return legend + renderTable(shown, roundColumns, '(no rounds yet)') + note;
}

const siteCell = (metrics: Record<string, number> | undefined): string =>
  metrics === undefined
    ? '-'
    : SHOWN.map((m) => (typeof metrics[m.name] === 'number' ? fixed(metrics[m.name]!) : 'n/a')).join('/');

/** Site × round table of `accuracy/AUC` (`-`: the site did not evaluate that version), in blocks of rounds. */
export function renderSiteMetrics(rows: readonly RoundMetrics[]): string {
  const withVersion = rows.filter((r) => r.versionId !== null);
  const sites = new Map<string, string | null>();
  for (const r of withVersion)
    for (const s of r.sites ?? []) if (!sites.has(s.siteId)) sites.set(s.siteId, s.name ?? null);
  const ids = [...sites.keys()].sort(
    (a, b) => (sites.get(a) ?? a).localeCompare(sites.get(b) ?? b) || a.localeCompare(b),
  );
  const head = 'Per site (accuracy/AUC of each version on the site’s own held-out data; - not evaluated):\n';
  if (ids.length === 0 || withVersion.length === 0) return `${head}(no evaluations yet)\n`;
  const blocks: string[] = [];
  for (let i = 0; i < withVersion.length; i += ROUNDS_PER_BLOCK) {
    const block = withVersion.slice(i, i + ROUNDS_PER_BLOCK);
    const columns: Column<string>[] = [
      { header: 'SITE', cell: (id) => sites.get(id) },
      { header: 'ID', cell: (id) => id },
      ...block.map((r): Column<string> => ({
        header: `R${r.round}`,
        cell: (id) => siteCell(r.sites?.find((s) => s.siteId === id)?.metrics),
      })),
    ];
    blocks.push(renderTable(ids, columns));
  }
  return head + blocks.join('\n');
}
