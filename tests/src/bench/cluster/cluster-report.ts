import type { BenchTable } from '../report';
import type { ClusterRunResult } from './cluster-run';

/** b / a, or NaN when a is 0 or either is not finite (a ratio of nothing is not 0 or ∞). */
export function ratio(b: number, a: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && a !== 0 ? b / a : Number.NaN;
}

/** The measures compared between configurations, each with how to read it from a result. */
const MEASURES: Array<[string, (r: ClusterRunResult) => number]> = [
  ['round p50 s', (r) => r.p50],
  ['round p95 s', (r) => r.p95],
  ['coordinator CPU ms per site-round', (r) => r.cpuMsPerSiteRound],
  ['coordinator CPU s (all replicas)', (r) => r.coordinatorCpuSeconds],
  ['PostgreSQL sessions, peak', (r) => r.pgPeakConnections],
  ['PostgreSQL commits per round', (r) => r.pgCommitsPerRound],
  ['503 answers retried', (r) => r.http.retried503],
  ['errors', (r) => r.errors.length],
];

/** One row per measure: its value in each configuration and, for each after the first, the ratio to the first. */
export function comparisonRows(results: readonly ClusterRunResult[]): Array<Array<string | number>> {
  const [base, ...rest] = results;
  if (!base) return [];
  return MEASURES.map(([name, get]) => [
    name,
    ...results.map(get),
    ...rest.map((r) => (get(base) === 0 && get(r) === 0 ? '=' : ratio(get(r), get(base)))),
  ]);
}

/** The benchmark's tables: the comparison with ratios, then each configuration in detail. */
export function clusterTables(results: readonly ClusterRunResult[]): BenchTable[] {
  const [base, ...rest] = results;
  if (!base) return [];
  const name = (r: ClusterRunResult) => `${r.replicas} replica${r.replicas === 1 ? '' : 's'}`;
  return [
    {
      title: `${base.sites} sites × ${base.rounds} rounds: ${results.map(name).join(' vs ')} (same run)`,
      note:
        'Every configuration runs on a fresh PostgreSQL schema (dropped after) and a fresh Redis prefix, behind the same ' +
        'round-robin TCP proxy (one replica too, so both pay for it). A round is timed from its opening to its publication. ' +
        'Coordinator CPU is user + system time of the replica processes (/proc/<pid>/stat) from the federation’s creation ' +
        'to its end, summed over replicas. Commits are the xact_commit delta of the whole database during the federation ' +
        'less this benchmark’s own statistics queries: other users of the server are in it too (see the background rate ' +
        'below). "=" marks a ratio of 0 to 0.',
      columns: ['measure', ...results.map(name), ...rest.map((r) => `${name(r)} / ${name(base)}`)],
      rows: comparisonRows(results),
    },
    {
      title: 'Each configuration',
      note:
        'uploads and evaluations as the sites counted them; 503 = answers the sites retried after Retry-After (uploads ' +
        'refused as OVERLOADED per the replicas’ /metrics in brackets); proxy = TCP connections sent to each replica; ' +
        'background = commits per second in the database from other users, measured over 5 s just before the federation.',
      columns: [
        'replicas',
        'rounds published',
        'every site every round',
        'rounds s',
        'uploads',
        'evaluations',
        'HTTP answers',
        '503 (overloaded uploads)',
        'other 5xx',
        'no answer (why)',
        'cancelled by the site',
        'CPU s per replica',
        'PG sessions peak (pool per replica)',
        'PG commits',
        'background commits/s',
        'proxy connections',
        'enroll s',
        'federation s',
      ],
      rows: results.map((r) => [
        String(r.replicas),
        `${r.roundsPublished} / ${r.rounds}`,
        r.everyRoundHadEverySite ? 'yes' : 'NO',
        r.roundSeconds.map((s) => s.toFixed(1)).join(', '),
        String(r.uploads),
        String(r.evaluations),
        String(r.http.answered),
        `${r.http.retried503} (${r.overloadedUploads})`,
        String(r.http.other5xx),
        `${r.http.failed}${
          r.http.failed > 0
            ? ` (${Object.entries(r.http.failedBy)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ')})`
            : ''
        }`,
        String(r.http.cancelled),
        r.replicaCpuSeconds.map((s) => s.toFixed(1)).join(' + '),
        `${r.pgPeakConnections} (${r.pgPoolSizePerReplica})`,
        String(r.pgCommits),
        r.pgBackgroundCommitsPerSecond,
        r.proxyForwarded.join(' / '),
        r.enrollSeconds,
        r.federationSeconds,
      ]),
    },
  ];
}
