import type { Progress } from './federation-run';
import type { SiteComparison, Score } from './compare';

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const f3 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '  -  ' : x.toFixed(3));

/**
 * One line per published round: participating sites and each site's accuracy / AUC on its own held-out rows (a Cox
 * model's C-index / loss).
 */
export function roundLine(p: Progress, round: number, siteNames: string[]): string | null {
  const r = p.rounds.find((x) => x.round === round);
  if (!r || (r.state !== 'published' && r.state !== 'failed')) return null;
  if (r.state === 'failed') return `round ${pad(String(round), 3)} failed: ${r.failureReason ?? ''}`;
  const evals = p.evaluations.get(r.versionId!) ?? [];
  if (evals.length < r.received) return null;
  const cells = siteNames.map((name) => {
    const e = evals.find((x) => x.siteId === p.siteIds.get(name));
    if (e?.metrics.cIndex !== undefined) return `${f3(e.metrics.cIndex)} ${f3(e.metrics.loss)}`;
    return `${f3(e?.metrics.accuracy)} ${f3(e?.metrics.auc)}`;
  });
  return `round ${pad(String(round), 3)} ${pad(`${r.received}/${r.selectedSiteIds.length}`, 6)} ${cells.map((c) => pad(c, 16)).join('')}`;
}

/** The header of the per-round table (C-index and loss columns for a time-to-event model). */
export function roundHeader(siteNames: string[], timeToEvent = false): string {
  const columns = timeToEvent ? 'c-idx loss' : 'acc   auc';
  return `${pad('', 9)} ${pad('sites', 6)} ${siteNames.map((n) => pad(n.slice(0, 15), 16)).join('')}\n${pad('', 16)} ${siteNames.map(() => pad(columns, 16)).join('')}`;
}

/** The final comparison table. */
export function comparisonTable(rows: SiteComparison[], mean: { federated: Score; localOnly: Score }): string {
  const lines = [
    'Tested on the OTHER sites’ held-out data (mean over those sites):',
    `${pad('site', 21)}${pad('local-only acc', 16)}${pad('federated acc', 16)}${pad('local-only auc', 16)}federated auc`,
    ...rows.map(
      (r) =>
        `${pad(r.site, 21)}${pad(f3(r.localOnly.accuracy), 16)}${pad(f3(r.federated.accuracy), 16)}${pad(f3(r.localOnly.auc), 16)}${f3(r.federated.auc)}`,
    ),
    `${pad('mean', 21)}${pad(f3(mean.localOnly.accuracy), 16)}${pad(f3(mean.federated.accuracy), 16)}${pad(f3(mean.localOnly.auc), 16)}${f3(mean.federated.auc)}`,
  ];
  return lines.join('\n');
}
