import { TwinfedError } from '@twinfed/shared';
import { type KeptUpdate, coordinateWise, robustStrategy, sortedMedian } from './robust';
import type { Strategy } from './types';

/** Weiszfeld stops once the smallest subgradient of Σᵢ‖z − xᵢ‖ is shorter than this times n (each term is a unit vector). */
const GEOMED_TOLERANCE = 1e-9;

/** Options of {@link geometricMedian}. */
interface GeometricMedianOptions {
  /** Most Weiszfeld steps. */
  readonly maxIterations: number;
  /** ν: a point within ν of the estimate counts as reached (RFA's smoothing), and the Vardi–Zhang step handles it. */
  readonly smoothing: number;
}

/** The geometric median and how the iteration ended. */
interface GeometricMedianResult {
  readonly median: Float64Array;
  readonly iterations: number;
  /** Σᵢ ‖median − xᵢ‖. */
  readonly objective: number;
  /** Length of the smallest subgradient of the objective at `median` (0 at the exact median). */
  readonly stationarity: number;
}

/**
 * The geometric median argmin_z Σᵢ ‖z − xᵢ‖₂ of equally weighted points, by Weiszfeld's iteration as RFA uses it
 * (Pillutla, Kakade & Harchaoui, "Robust Aggregation for Federated Learning", IEEE TSP 2022): z ← Σ βᵢxᵢ / Σ βᵢ,
 * βᵢ = 1/‖z − xᵢ‖. Points within ν of z count as reached and take the Vardi–Zhang step (Vardi & Zhang, PNAS 2000):
 * with η such points and r = ‖Σ_{others} βᵢ(xᵢ − z)‖, z stays if r ≤ η (it is the median) and otherwise moves to
 * (1 − η/r)·T + (η/r)·z, T the Weiszfeld point of the others, so a start or iterate on a point that is not the
 * median cannot stall (plain Weiszfeld with a tiny ν stays stuck there). Starts from the coordinate-wise median
 * (within the honest range per coordinate while attackers are a minority); stops after `maxIterations` steps, once z
 * is stationary to {@link GEOMED_TOLERANCE}, or on the input point nearest to z when that point passes Vardi–Zhang's
 * optimality test (tried after 0, 1, 2, 4, … steps and at the end, z jumping to that point when it is only nearer the
 * optimum: Weiszfeld alone converges sublinearly to a median on or next to an input point). Each step never increases the objective. Float64; O(iterations·n·d).
 */
export function geometricMedian(points: readonly Float32Array[], opts: GeometricMedianOptions): GeometricMedianResult {
  const n = points.length;
  if (n === 0) throw new TwinfedError('INTERNAL', 'The geometric median of no points is undefined.');
  const size = points[0]!.length;
  const z = Float64Array.from(
    coordinateWise(
      points.map((weights) => ({ siteId: '', numExamples: 1, weights })),
      sortedMedian,
    ),
  );
  const dist = new Float64Array(n);
  const pull = new Float64Array(size);
  const target = new Float64Array(size);
  let iterations = 0;
  for (;;) {
    let reached = 0;
    let betaSum = 0;
    pull.fill(0);
    target.fill(0);
    for (let i = 0; i < n; i++) {
      const x = points[i]!;
      let s = 0;
      for (let j = 0; j < size; j++) s += (z[j]! - x[j]!) ** 2;
      dist[i] = Math.sqrt(s);
      if (dist[i]! <= opts.smoothing) {
        reached++;
        continue;
      }
      const beta = 1 / dist[i]!;
      betaSum += beta;
      for (let j = 0; j < size; j++) {
        target[j]! += beta * x[j]!;
        pull[j]! += beta * (x[j]! - z[j]!);
      }
    }
    let r = 0;
    for (let j = 0; j < size; j++) r += pull[j]! * pull[j]!;
    r = Math.sqrt(r);
    const stationarity = Math.max(0, r - reached);
    if (betaSum === 0 || stationarity <= GEOMED_TOLERANCE * n) {
      return { median: z, iterations, objective: dist.reduce((a, d) => a + d, 0), stationarity };
    }
    // Weiszfeld crawls (steps shrinking like 1/k) towards a median on or next to an input point, so after 0, 1, 2,
    // 4, 8, … steps and before giving up, the input point nearest to z is tested: when it is the median, that is the
    // answer; when it is only closer to it than z (a smaller objective), z jumps there and the next step leaves it
    // by Vardi–Zhang's rule. Either way the objective never increases.
    if ((iterations & (iterations - 1)) === 0 || iterations >= opts.maxIterations) {
      const k = nearest(dist);
      const atPoint = inputPointAsMedian(points, k, opts.smoothing);
      if (atPoint.median)
        return { median: Float64Array.from(points[k]!), iterations, objective: atPoint.objective, stationarity: 0 };
      const objective = dist.reduce((a, d) => a + d, 0);
      if (atPoint.objective < objective) {
        z.set(points[k]!);
        if (iterations >= opts.maxIterations)
          return { median: z, iterations, objective: atPoint.objective, stationarity: atPoint.stationarity };
        iterations++;
        continue;
      }
    }
    if (iterations >= opts.maxIterations) {
      return { median: z, iterations, objective: dist.reduce((a, d) => a + d, 0), stationarity };
    }
    const stay = reached > 0 ? reached / r : 0;
    for (let j = 0; j < size; j++) z[j] = (1 - stay) * (target[j]! / betaSum) + stay * z[j]!;
    iterations++;
  }
}

/** The index of the smallest distance. */
function nearest(dist: Float64Array): number {
  let best = 0;
  for (let i = 1; i < dist.length; i++) if (dist[i]! < dist[best]!) best = i;
  return best;
}

/**
 * Vardi & Zhang's optimality test at the input point x = points[k]: with η the points within ν of x (x included) and
 * r = ‖Σ_{others} (xᵢ − x)/‖xᵢ − x‖‖, x is the geometric median iff r ≤ η (the zero vector is then a subgradient of
 * the objective there). Also returns the objective Σᵢ ‖x − xᵢ‖ and the stationarity max(0, r − η) at x. One O(n·d) pass.
 */
function inputPointAsMedian(
  points: readonly Float32Array[],
  k: number,
  smoothing: number,
): { median: boolean; objective: number; stationarity: number } {
  const x = points[k]!;
  const pull = new Float64Array(x.length);
  let reached = 0;
  let objective = 0;
  for (const p of points) {
    let s = 0;
    for (let j = 0; j < x.length; j++) s += (p[j]! - x[j]!) ** 2;
    const d = Math.sqrt(s);
    objective += d;
    if (d <= smoothing) {
      reached++;
      continue;
    }
    for (let j = 0; j < x.length; j++) pull[j]! += (p[j]! - x[j]!) / d;
  }
  let r = 0;
  for (let j = 0; j < x.length; j++) r += pull[j]! * pull[j]!;
  r = Math.sqrt(r);
  return { median: r <= reached, objective, stationarity: Math.max(0, r - reached) };
}

/**
 * Geometric median aggregation (RFA, Pillutla et al. 2022): the point with the least summed L2 distance to the site
 * models, each site one vote. Its breakdown point is 1/2: with f < n/2 sites sending anything at all, it stays
 * within C·r of any point that the honest models lie within r of, C = (1 − α)/√(1 − 2α), α = f/n
 * (Minsker 2015, Lemma 2.1). Unweighted, unlike RFA's example-weighted form: example counts are claims a
 * malicious site controls (up to `training.maxExamplesPerSite`), and a site claiming half the rows would own
 * the median. Keeps all updates: O(sites × model) memory.
 */
export function geomed(opts: { maxIterations: number; smoothing: number }): Strategy {
  const { maxIterations, smoothing } = opts;
  if (!Number.isInteger(maxIterations) || maxIterations < 1)
    throw new TwinfedError('INVALID_PLAN', 'geomed needs an integer maxIterations ≥ 1.');
  if (!(smoothing > 0) || !Number.isFinite(smoothing))
    throw new TwinfedError('INVALID_PLAN', 'geomed needs a positive, finite smoothing.');
  return robustStrategy({
    name: 'geomed',
    minResults: 1,
    rule: (updates: readonly KeptUpdate[]) => {
      const { median, iterations, stationarity } = geometricMedian(
        updates.map((u) => u.weights),
        { maxIterations, smoothing },
      );
      return {
        weights: Float32Array.from(median),
        contributors: updates.map((u) => u.siteId),
        metrics: { geomedIterations: iterations, geomedStationarity: stationarity },
      };
    },
  });
}
