/**
 * The integrated Brier score of a Cox model's survival curves on time-to-event rows, with inverse-probability-of-
 * censoring weights (Graf et al., 1999): at a time t,
 *   BS(t) = (1/n) Σ_i [ S(t | x_i)² · 1(T_i ≤ t, event) / G(T_i−)  +  (1 − S(t | x_i))² · 1(T_i > t) / G(t) ]
 * with S(t | x) = exp(−H₀(t) · e^η) and G the Kaplan–Meier estimate of the censoring survival function of the same
 * rows (censorings at a time count after that time's events; a weight with G = 0 is left out). The integral is the
 * trapezoid rule over the evaluation times divided by their span, as scikit-survival's `integrated_brier_score`.
 * Evaluation times: the baseline's times up to τ = min(horizon, the latest time in the rows). Lower is better; an
 * uninformative S(t) = 0.5 scores 0.25.
 */
import { cumulativeHazardAt, type BaselineHazard } from './breslow';

/** Kaplan–Meier of the censoring distribution: G(t) and G(t−) of rows with times and 0/1 events (1 = observed). */
export function censoringSurvival(time: ArrayLike<number>, event: ArrayLike<number>) {
  const n = time.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => time[a]! - time[b]!);
  const times: number[] = [];
  const after: number[] = [];
  let g = 1;
  for (let start = 0; start < n;) {
    let end = start;
    while (end + 1 < n && time[order[end + 1]!] === time[order[start]!]) end++;
    let censored = 0;
    for (let k = start; k <= end; k++) if (event[order[k]!] !== 1) censored++;
    if (censored > 0) {
      g *= 1 - censored / (n - start);
      times.push(time[order[start]!]!);
      after.push(g);
    }
    start = end + 1;
  }
  /** G at t (right-continuous), or just before t when `before`. */
  return (t: number, before = false): number => {
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before ? times[mid]! < t : times[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 1 : after[lo - 1]!;
  };
}

/** BS(t) of the module comment. */
function brierAt(
  t: number,
  rows: { eta: ArrayLike<number>; time: ArrayLike<number>; event: ArrayLike<number> },
  h0: number,
  g: ReturnType<typeof censoringSurvival>,
): number {
  const { eta, time, event } = rows;
  const n = eta.length;
  const gt = g(t);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const s = Math.exp(-h0 * Math.exp(eta[i]!));
    if (time[i]! <= t && event[i] === 1) {
      const w = g(time[i]!, true);
      if (w > 0) sum += (s * s) / w;
    } else if (time[i]! > t && gt > 0) sum += ((1 - s) * (1 - s)) / gt;
  }
  return sum / n;
}

/** The integrated Brier score (see the module comment); NaN with fewer than two evaluation times or no rows. */
export function integratedBrierScore(opts: {
  eta: ArrayLike<number>;
  time: ArrayLike<number>;
  event: ArrayLike<number>;
  baseline: BaselineHazard;
  horizon: number;
}): number {
  const { time, baseline } = opts;
  if (time.length === 0) return NaN;
  let latest = -Infinity;
  for (let i = 0; i < time.length; i++) latest = Math.max(latest, time[i]!);
  const tau = Math.min(opts.horizon, latest);
  const points = baseline.times.filter((t) => t <= tau);
  if (points.length < 2) return NaN;
  const g = censoringSurvival(time, opts.event);
  const bs = points.map((t) => brierAt(t, opts, cumulativeHazardAt(baseline, t), g));
  let area = 0;
  for (let k = 1; k < points.length; k++) area += ((bs[k - 1]! + bs[k]!) / 2) * (points[k]! - points[k - 1]!);
  return area / (points[points.length - 1]! - points[0]!);
}
