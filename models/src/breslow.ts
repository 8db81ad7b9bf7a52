/**
 * The Breslow estimator of a Cox model's cumulative baseline hazard, and the risk at a horizon it gives:
 * H₀(t) = Σ_{event times s ≤ t} d_s / Σ_{j: t_j ≥ s} e^{η_j} (d_s the events at s), and for a row with risk score η,
 * risk(H) = 1 − S(H | η) = 1 − exp(−H₀(H) · e^η). With every η = 0 it is the Nelson–Aalen estimator. Plain arrays,
 * float64, O(n log n).
 */

/** A step function: `cumulativeHazard[k]` holds from `times[k]` (ascending event times) until the next one. */
export interface BaselineHazard {
  readonly times: readonly number[];
  readonly cumulativeHazard: readonly number[];
}

/** Breslow's cumulative baseline hazard from rows' risk scores `eta`, times and 0/1 events. */
export function breslowBaseline(rows: {
  eta: ArrayLike<number>;
  time: ArrayLike<number>;
  event: ArrayLike<number>;
}): BaselineHazard {
  const { eta, time, event } = rows;
  const n = eta.length;
  if (time.length !== n || event.length !== n) throw new RangeError('eta, time and event must have one value per row');
  let shift = -Infinity;
  for (let i = 0; i < n; i++) shift = Math.max(shift, eta[i]!);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => time[b]! - time[a]!);
  // Latest first, so the risk set is a running sum; each distinct event time's increment, then accumulated forwards.
  const steps: { t: number; increment: number }[] = [];
  let riskSum = 0;
  for (let start = 0; start < n;) {
    let end = start;
    while (end + 1 < n && time[order[end + 1]!] === time[order[start]!]) end++;
    let events = 0;
    for (let k = start; k <= end; k++) {
      riskSum += Math.exp(eta[order[k]!]! - shift);
      events += event[order[k]!] === 1 ? 1 : 0;
    }
    if (events > 0) steps.push({ t: time[order[start]!]!, increment: events / riskSum / Math.exp(shift) });
    start = end + 1;
  }
  steps.reverse();
  const cumulativeHazard: number[] = [];
  let h = 0;
  for (const s of steps) cumulativeHazard.push((h += s.increment));
  return { times: steps.map((s) => s.t), cumulativeHazard };
}

/** H₀(horizon): the cumulative baseline hazard at the horizon (0 before the first event time). */
export function cumulativeHazardAt(baseline: BaselineHazard, horizon: number): number {
  let lo = 0;
  let hi = baseline.times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (baseline.times[mid]! <= horizon) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? 0 : baseline.cumulativeHazard[lo - 1]!;
}

/** The risk of the event by the horizon for each risk score: 1 − exp(−H₀(H) · e^η). */
export function riskAtHorizon(eta: ArrayLike<number>, baseline: BaselineHazard, horizon: number): Float64Array {
  const h0 = cumulativeHazardAt(baseline, horizon);
  return Float64Array.from(eta, (v) => 1 - Math.exp(-h0 * Math.exp(v)));
}
