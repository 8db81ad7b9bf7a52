/**
 * The federated Breslow baseline of a Cox model, through the secure sum (crypto/secure-sum.ts).
 *
 * Once a Cox federation's last round is published, each site computes with that final model's risk scores η on its
 * own training rows, over a public time grid derived from the plan alone (edges e_1 < … < e_K = horizonDays, e_0 = 0):
 *   d_k = the rows with an observed event at a time in (e_{k−1}, e_k]
 *   R_k = Σ e^η over the rows still at risk at the start of bin k (time > e_{k−1})
 * and posts the vector [d_1 … d_K, R_1 … R_K] masked. The coordinator learns only the cohort's sums and derives
 *   H₀(e_k) = Σ_{j ≤ k} D_j / R_j      (R_j = 0: no increment)
 * the grouped Breslow estimator. With whole-day (whole-unit) times and one-day bins (the grid of any horizon up to
 * {@link BASELINE_MAX_BINS} days) it equals the Breslow estimator of the pooled rows at every grid point.
 */
import { TwinfedError } from './errors';
import type { CoxModelSpec } from './model-spec';

/** At most this many bins: one per day up to this horizon, wider beyond (horizon / this). */
export const BASELINE_MAX_BINS = 366;

/** A cumulative baseline hazard on a grid: `cumulativeHazard[k]` holds from `times[k]` until the next time. */
export interface GridBaseline {
  readonly times: readonly number[];
  readonly cumulativeHazard: readonly number[];
}

/** The public grid of a Cox plan: the K right edges, e_K = horizonDays (whole days when the horizon allows). */
export function baselineGrid(spec: Pick<CoxModelSpec, 'horizonDays'>): number[] {
  const h = spec.horizonDays;
  const k = Math.min(BASELINE_MAX_BINS, Math.max(1, Math.ceil(h)));
  const width = h / k;
  return Array.from({ length: k }, (_, i) => (i === k - 1 ? h : (i + 1) * width));
}

/** The number of ring elements of a site's baseline vector: 2 per bin. */
export function baselineVectorLength(grid: readonly number[]): number {
  return 2 * grid.length;
}

/** The masks' context of a federation's baseline sum, bound to the version whose risk scores it sums. */
export function baselineContext(federationId: string, versionId: string): string {
  return `twinfed/cox-baseline/v1\n${federationId}\n${versionId}`;
}

/** The index of the bin (e_{k−1}, e_k] holding `t` (−1 beyond the last edge). */
function binOf(grid: readonly number[], t: number): number {
  let lo = 0;
  let hi = grid.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (grid[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo < grid.length ? lo : -1;
}

/**
 * A site's baseline vector [d_1 … d_K, R_1 … R_K] from its rows' risk scores, times (> 0) and 0/1 events (see the
 * module comment). Throws `VALIDATION_FAILED` on rows of different lengths or a non-finite e^η.
 */
export function baselineVector(
  rows: { eta: ArrayLike<number>; time: ArrayLike<number>; event: ArrayLike<number> },
  grid: readonly number[],
): Float64Array {
  const { eta, time, event } = rows;
  const n = eta.length;
  if (time.length !== n || event.length !== n)
    throw new TwinfedError('VALIDATION_FAILED', 'eta, time and event must have one value per row.');
  const k = grid.length;
  const out = new Float64Array(2 * k);
  // at[b]: Σ e^η of the rows whose time falls in bin b (beyond the grid: bin k); R_j = Σ_{b ≥ j} at[b].
  const at = new Float64Array(k + 1);
  for (let i = 0; i < n; i++) {
    const r = Math.exp(eta[i]!);
    if (!Number.isFinite(r))
      throw new TwinfedError('VALIDATION_FAILED', `Row ${i}: the risk score is too large for a baseline sum.`);
    const b = binOf(grid, time[i]!);
    at[b < 0 ? k : b] = at[b < 0 ? k : b]! + r;
    if (b >= 0 && event[i] === 1) out[b] = out[b]! + 1;
  }
  let running = at[k]!;
  for (let j = k - 1; j >= 0; j--) {
    running += at[j]!;
    out[k + j] = running;
  }
  return out;
}

/** The cumulative baseline hazard on the grid from the cohort's summed vector (see the module comment). */
export function baselineFromSums(sum: ArrayLike<number>, grid: readonly number[]): GridBaseline {
  const k = grid.length;
  if (sum.length !== 2 * k)
    throw new TwinfedError('VALIDATION_FAILED', `A baseline sum has ${2 * k} values, not ${sum.length}.`);
  const cumulativeHazard: number[] = [];
  let h = 0;
  for (let j = 0; j < k; j++) {
    const events = Math.max(0, Math.round(sum[j]!));
    const risk = sum[k + j]!;
    if (events > 0 && risk > 0) h += events / risk;
    cumulativeHazard.push(h);
  }
  return { times: [...grid], cumulativeHazard };
}

/** The number of events the summed vector holds (the baseline's support). */
export function baselineEvents(sum: ArrayLike<number>, grid: readonly number[]): number {
  let events = 0;
  for (let j = 0; j < grid.length; j++) events += Math.max(0, Math.round(sum[j]!));
  return events;
}
