/**
 * How a federation is doing, round by round: for each round the version it produced and, over the sites that
 * evaluated that version on their own held-out data, the mean and range of each metric. Pure: the CLI fetches.
 */
import type { FederationEvaluations, RoundState, RoundView } from '@twinfed/shared';

/** One metric of one version over the sites that evaluated it. */
export interface MetricSummary {
  /** Unweighted mean over the sites that reported the metric (null when none did). */
  mean: number | null;
  min: number | null;
  max: number | null;
  /** Sites that reported the metric. */
  count: number;
  /** Sites that evaluated the version without this metric (e.g. AUC of a single-class test set). */
  missing: number;
}

/** A site's evaluation of a round's version. */
export interface SiteMetrics {
  siteId: string;
  /** The site's name, when the site list was fetched (`--sites`). */
  name?: string | null;
  n: number;
  metrics: Record<string, number>;
}

/** One row: a round (or the initial version, round 0) with its version's evaluation summary. */
export interface RoundMetrics {
  round: number;
  /** The round's state; `initial` for the federation's initial version (round 0). */
  state: RoundState | 'initial';
  versionId: string | null;
  /** Updates received / sites selected (null for the initial version). */
  received: number | null;
  selected: number | null;
  failureReason: string | null;
  /** Sites that evaluated the version. */
  evaluatedBy: number;
  /** Every metric any of those sites reported, by name. */
  metrics: Record<string, MetricSummary>;
  /** Per-site values (only when asked for). */
  sites?: SiteMetrics[];
}

/** Summarises `name` over evaluations: mean and range of the finite values, and how many lacked it. */
function summarizeMetric(evaluations: ReadonlyArray<{ metrics: Record<string, number> }>, name: string): MetricSummary {
  const values = evaluations
    .map((e) => e.metrics[name])
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (values.length === 0) return { mean: null, min: null, max: null, count: 0, missing: evaluations.length };
  const sum = values.reduce((a, b) => a + b, 0);
  return {
    mean: sum / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
    count: values.length,
    missing: evaluations.length - values.length,
  };
}

/**
 * The rows of a federation's progress: the initial version (when published) then every round in order, each with
 * the summary of its version's evaluations. `siteNames` (id → name) adds per-site values to every row.
 */
export function roundMetrics(
  rounds: readonly RoundView[],
  data: FederationEvaluations,
  siteNames?: ReadonlyMap<string, string>,
): RoundMetrics[] {
  const byVersion = new Map(data.versions.map((v) => [v.versionId, v.evaluations]));
  const row = (base: Omit<RoundMetrics, 'evaluatedBy' | 'metrics' | 'sites'>): RoundMetrics => {
    const evaluations = base.versionId ? (byVersion.get(base.versionId) ?? []) : [];
    const names = [...new Set(evaluations.flatMap((e) => Object.keys(e.metrics)))].sort();
    return {
      ...base,
      evaluatedBy: evaluations.length,
      metrics: Object.fromEntries(names.map((m) => [m, summarizeMetric(evaluations, m)])),
      ...(siteNames
        ? {
            sites: evaluations.map((e) => ({
              siteId: e.siteId,
              name: siteNames.get(e.siteId) ?? null,
              n: e.n,
              metrics: e.metrics,
            })),
          }
        : {}),
    };
  };
  const initial = data.versions.find((v) => v.round === 0);
  return [
    ...(initial
      ? [
          row({
            round: 0,
            state: 'initial',
            versionId: initial.versionId,
            received: null,
            selected: null,
            failureReason: null,
          }),
        ]
      : []),
    ...[...rounds]
      .sort((a, b) => a.round - b.round)
      .map((r) =>
        row({
          round: r.round,
          state: r.state,
          versionId: r.versionId,
          received: r.received,
          selected: r.selectedSiteIds.length,
          failureReason: r.failureReason,
        }),
      ),
  ];
}

/** Up to this many rows are all shown; more are thinned to about {@link THINNED_ROWS}. */
const ALL_ROWS_UP_TO = 20;
const THINNED_ROWS = 10;

/** The rows to print: all of them when there are at most 20 (or `all`), else the first, every k-th round and the last. */
export function selectRows<T extends { round: number }>(rows: readonly T[], all = false): { rows: T[]; step: number } {
  if (all || rows.length <= ALL_ROWS_UP_TO) return { rows: [...rows], step: 1 };
  const step = Math.ceil(rows.length / THINNED_ROWS);
  return { rows: rows.filter((r, i) => i === 0 || i === rows.length - 1 || r.round % step === 0), step };
}
