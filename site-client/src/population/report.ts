import {
  ageBandNames,
  ageBandOf,
  DEFAULT_RISK_TIERS,
  PopulationSettingsSchema,
  TwinfedError,
  type Plan,
  type PopulationReport,
} from '@twinfed/shared';
import { ageAt } from '../features/age';
import type { TwinScore } from '../scoring/score';
import type { TwinSnapshot } from '../twins/types';
import { laplace, type UniformSource } from './noise';
import { suppressTable } from './suppression';

/** Options of {@link populationReport}. */
interface PopulationReportOptions {
  /** Scores of one model version (see `scoreTwins`). */
  scores: readonly TwinScore[];
  /** The scored twins (their birth dates give the age bands; nothing else is read). */
  twins: readonly Pick<TwinSnapshot, 'pid' | 'birthDate'>[];
  plan: Pick<Plan, 'data'>;
  /** Minimum cell size; default the plan's `data.population.k`, else 10 (raised to `siteK`). */
  k?: number;
  /**
   * The site's own k floor (its policy's `populationReports.k`, or `--min-population-k`): cells are suppressed below
   * the larger of it and the plan's k, whatever the plan says.
   */
  siteK?: number;
  /** Laplace privacy budget; default the plan's `data.population.epsilon`; absent means exact counts. */
  epsilon?: number;
  /** Uniform source of the noise: `cryptoUniform()` for real reports, a seeded one in tests. */
  rng: UniformSource;
}

/** The exact counts of one version's scores, before anything is released (never leaves the site). */
export interface ExactPopulationTable {
  versionId: string;
  at: number;
  k: number;
  epsilon: number | undefined;
  tiers: string[];
  bands: string[];
  /** [tier][age band]. */
  exact: number[][];
}

/**
 * The counts a site may send the consortium: scored twins per risk tier × age band, with totals per tier,
 * per age band and overall. The order of operations is fixed:
 * 1. exact counts per cell (ages at the scores' snapshot time; no birth date → `unknown`) — {@link exactPopulationTable};
 * 2. with ε: each cell gets Laplace noise of scale 1/ε (sensitivity 1: a patient is in one cell, so the cell
 *    vector is ε-differentially private), is rounded and clamped at 0;
 * 3. totals are sums of those released cell values (post-processing: no further privacy cost);
 * 4. primary suppression: a cell or total is null when its exact count or its released count is below k
 *    (the suppression pattern itself depends on exact counts and is a k-anonymity rule, not covered by ε);
 * 5. secondary suppression: more released counts become null until no null count, and no sum of null cells, below
 *    k can be recovered from the released ones by the table's sums.
 * Steps 2–5 are {@link releasePopulationTable}. Nothing below k is ever in the result. Throws `BAD_REQUEST` when the
 * scores mix model versions.
 */
export function populationReport(options: PopulationReportOptions): PopulationReport {
  const table = exactPopulationTable(options);
  return releasePopulationTable(table, noisyCounts(table, options.rng));
}

/** Step 1 of {@link populationReport}: the exact tier × age band counts of one version's scores. */
export function exactPopulationTable(options: Omit<PopulationReportOptions, 'rng'>): ExactPopulationTable {
  const { scores, twins, plan } = options;
  const settings = PopulationSettingsSchema.parse(plan.data.population ?? {});
  const k = Math.max(options.k ?? settings.k, options.siteK ?? 0);
  const epsilon = options.epsilon ?? settings.epsilon;
  if (!Number.isInteger(k) || k < 2) throw new TwinfedError('BAD_REQUEST', 'k must be an integer of at least 2');
  if (epsilon !== undefined && !(epsilon > 0 && Number.isFinite(epsilon)))
    throw new TwinfedError('BAD_REQUEST', 'epsilon must be positive');
  const versions = new Set(scores.map((s) => s.versionId));
  if (versions.size !== 1)
    throw new TwinfedError(
      'BAD_REQUEST',
      versions.size === 0 ? 'No scores to report.' : 'The scores come from different model versions.',
    );
  const at = scores[0]!.at;
  if (scores.some((s) => s.at !== at))
    throw new TwinfedError('BAD_REQUEST', 'The scores have different snapshot times.');

  const tiers = [...(plan.data.tiers ?? DEFAULT_RISK_TIERS).names];
  const bands = ageBandNames(settings.ageBands);
  const birth = new Map(twins.map((t) => [t.pid, t.birthDate]));
  const exact = tiers.map(() => bands.map(() => 0));
  for (const s of scores) {
    const r = tiers.indexOf(s.tier);
    if (r < 0) throw new TwinfedError('BAD_REQUEST', `Score tier "${s.tier}" is not one of the plan's tiers.`);
    const c = bands.indexOf(ageBandOf(ageAt(birth.get(s.pid) ?? null, at), settings.ageBands));
    exact[r]![c]!++;
  }
  return { versionId: scores[0]!.versionId, at, k, epsilon, tiers, bands, exact };
}

/** Step 2 of {@link populationReport}: the cell values to release — exact without ε, else one fresh Laplace draw (spends ε). */
export function noisyCounts(table: Pick<ExactPopulationTable, 'exact' | 'epsilon'>, rng: UniformSource): number[][] {
  const { exact, epsilon } = table;
  return exact.map((row) =>
    row.map((n) => (epsilon === undefined ? n : Math.max(0, Math.round(n + laplace(1 / epsilon, rng))))),
  );
}

/**
 * Steps 3–5 of {@link populationReport}: totals and suppression of `released` cell values ({@link noisyCounts}, or the
 * values of an earlier report of the very same exact counts, re-sent so an unchanged table costs no further ε).
 */
export function releasePopulationTable(
  table: ExactPopulationTable,
  released: readonly (readonly number[])[],
): PopulationReport {
  const { tiers, bands, exact, k, epsilon } = table;
  const hide = suppressTable({ released, exact, k });
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  const cells = tiers.flatMap((tier, r) =>
    bands.map((ageBand, c) => ({ tier, ageBand, count: hide.cells[r]![c] ? null : released[r]![c]! })),
  );
  return {
    versionId: table.versionId,
    at: new Date(table.at).toISOString(),
    k,
    epsilon: epsilon ?? null,
    tiers: [...tiers],
    ageBands: bands,
    cells,
    totals: {
      all: hide.all ? null : sum(released.map((row) => sum(row))),
      byTier: tiers.map((tier, r) => ({ tier, count: hide.rows[r] ? null : sum(released[r]!) })),
      byAgeBand: bands.map((ageBand, c) => ({
        ageBand,
        count: hide.cols[c] ? null : sum(released.map((row) => row[c]!)),
      })),
    },
    suppressedCells: cells.filter((c) => c.count === null).length,
  };
}
