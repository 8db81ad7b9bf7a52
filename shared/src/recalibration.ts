/**
 * Platt and temperature scaling fitted from sufficient statistics that a secure sum can add up.
 *
 * Each site bins the log-odds z of its held-out rows on a public grid (RECALIBRATION_CELLS cells of width
 * RECALIBRATION_CELL_WIDTH over [−RECALIBRATION_Z_MAX, RECALIBRATION_Z_MAX]; z outside is clamped) and sends, per cell and
 * label, the row count and Σz: [n₀, Σz₀, n₁, Σz₁] per cell. Sums of these vectors are the same statistics of the pooled
 * rows, so the fit on the cohort's sum is the fit on the pooled histogram. Each (cell, label) is one weighted point at
 * its mean log-odds; within a cell of width 1/8 that moves no point by more than 1/16, so the fit is the fit on the rows
 * themselves to about 1e-3 (tested).
 */
import { TwinfedError } from './errors';
import type { RecalibrationMethod } from './schemas/recalibration';

/** Half-width of the grid: log-odds beyond ±16 (p within 1e-7 of 0 or 1) are clamped. */
const RECALIBRATION_Z_MAX = 16;
/** Width of a grid cell in log-odds. */
const RECALIBRATION_CELL_WIDTH = 0.125;
/** Cells of the grid. */
const RECALIBRATION_CELLS = (2 * RECALIBRATION_Z_MAX) / RECALIBRATION_CELL_WIDTH;
/** Values per cell: n₀, Σz₀, n₁, Σz₁. */
const PER_CELL = 4;

/** Length of a site's histogram vector (and of the secure sum). */
export function recalibrationStatsLength(): number {
  return RECALIBRATION_CELLS * PER_CELL;
}

/** The secure-sum context of a federation's recalibration of `baseVersionId` (binds the pairwise masks to it). */
export function recalibrationContext(federationId: string, baseVersionId: string): string {
  return `${federationId}/recalibration/${baseVersionId}`;
}

function clampZ(z: number): number {
  return Math.min(RECALIBRATION_Z_MAX, Math.max(-RECALIBRATION_Z_MAX, z));
}

/**
 * A site's histogram of held-out log-odds by label: [n₀, Σz₀, n₁, Σz₁] per grid cell (z clamped to the grid).
 * Throws `VALIDATION_FAILED` on a label other than 0/1, a non-finite log-odds or arrays of different lengths.
 */
export function logitHistogram(logits: ArrayLike<number>, labels: ArrayLike<number>): Float64Array {
  if (logits.length !== labels.length)
    throw new TwinfedError('VALIDATION_FAILED', 'Log-odds and labels differ in length.');
  const out = new Float64Array(recalibrationStatsLength());
  for (let i = 0; i < logits.length; i++) {
    const y = labels[i]!;
    const z0 = logits[i]!;
    if (y !== 0 && y !== 1) throw new TwinfedError('VALIDATION_FAILED', `Label ${i} is not 0 or 1.`);
    if (Number.isNaN(z0)) throw new TwinfedError('VALIDATION_FAILED', `Log-odds ${i} is not a number.`);
    const z = clampZ(z0);
    const cell = Math.min(RECALIBRATION_CELLS - 1, Math.floor((z + RECALIBRATION_Z_MAX) / RECALIBRATION_CELL_WIDTH));
    const k = cell * PER_CELL + 2 * y;
    out[k] = out[k]! + 1;
    out[k + 1] = out[k + 1]! + z;
  }
  return out;
}

/** Weighted points (log-odds, label, weight) to fit on. */
interface Points {
  z: number[];
  y: number[];
  w: number[];
}

/** The weighted points of a (summed) histogram: one per non-empty (cell, label) at its mean log-odds. */
function pointsOf(sums: ArrayLike<number>): Points {
  if (sums.length !== recalibrationStatsLength())
    throw new TwinfedError(
      'VALIDATION_FAILED',
      `A recalibration histogram has ${recalibrationStatsLength()} values, not ${sums.length}.`,
    );
  const p: Points = { z: [], y: [], w: [] };
  for (let c = 0; c < RECALIBRATION_CELLS; c++) {
    for (const y of [0, 1]) {
      // Counts are integers; the secure sum's fixed point may leave them a hair off.
      const n = Math.round(sums[c * PER_CELL + 2 * y]!);
      if (n <= 0) continue;
      p.z.push(clampZ(sums[c * PER_CELL + 2 * y + 1]! / n));
      p.y.push(y);
      p.w.push(n);
    }
  }
  return p;
}

/** What {@link fitRecalibration} found: p = σ(a·z + b). */
interface RecalibrationFit {
  method: RecalibrationMethod;
  a: number;
  b: number;
  /** Rows the fit used. */
  rows: number;
  /** Newton iterations taken. */
  iterations: number;
}

const sigmoid = (t: number): number => (t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t)));

/** −Σ w·[y log σ(t) + (1 − y) log(1 − σ(t))], with t = a·z + b, computed stably. */
function lossAt(p: Points, a: number, b: number): number {
  let s = 0;
  for (let i = 0; i < p.z.length; i++) {
    const t = a * p.z[i]! + b;
    // log(1 + e^t) − y·t
    const softplus = t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
    s += p.w[i]! * (softplus - p.y[i]! * t);
  }
  return s;
}

/**
 * Fits Platt scaling (a, b) or temperature scaling (a = 1/T, b = 0) by Newton's method with backtracking on the
 * weighted log loss of the points (minimum of a convex function; started at the identity a = 1, b = 0). Throws
 * `RECALIBRATION_UNFIT` when the data hold one label only, the fit does not converge (separable scores), or the slope
 * is not positive (a recalibration must keep the model's ranking).
 */
function fitPoints(p: Points, method: RecalibrationMethod): RecalibrationFit {
  const rows = p.w.reduce((s, w) => s + w, 0);
  const positives = p.w.reduce((s, w, i) => s + w * p.y[i]!, 0);
  if (positives === 0 || positives === rows)
    throw new TwinfedError('RECALIBRATION_UNFIT', 'Recalibration needs held-out rows of both outcomes.');
  const withB = method === 'platt';
  if (separable(p, withB))
    throw new TwinfedError(
      'RECALIBRATION_UNFIT',
      'The held-out scores separate the outcomes perfectly: the fit has no finite optimum.',
    );
  let a = 1;
  let b = 0;
  let loss = lossAt(p, a, b);
  for (let it = 1; it <= 100; it++) {
    let ga = 0;
    let gb = 0;
    let haa = 0;
    let hab = 0;
    let hbb = 0;
    for (let i = 0; i < p.z.length; i++) {
      const z = p.z[i]!;
      const q = sigmoid(a * z + b);
      const r = p.w[i]! * (q - p.y[i]!);
      const v = p.w[i]! * q * (1 - q);
      ga += r * z;
      gb += r;
      haa += v * z * z;
      hab += v * z;
      hbb += v;
    }
    // A tiny ridge keeps the step defined when every log-odds is 0 (an untrained model).
    const ridge = 1e-12 * rows;
    let da: number;
    let db = 0;
    if (withB) {
      const det = (haa + ridge) * (hbb + ridge) - hab * hab;
      da = ((hbb + ridge) * ga - hab * gb) / det;
      db = ((haa + ridge) * gb - hab * ga) / det;
    } else {
      da = ga / (haa + ridge);
    }
    let step = 1;
    let next = lossAt(p, a - da, b - db);
    while (!(next <= loss) && step > 1e-10) {
      step /= 2;
      next = lossAt(p, a - step * da, b - step * db);
    }
    if (!(next <= loss)) break;
    a -= step * da;
    b -= step * db;
    const gradNorm = Math.hypot(ga, withB ? gb : 0) / rows;
    const done = Math.abs(loss - next) <= 1e-13 * Math.max(1, loss) && gradNorm < 1e-6;
    loss = next;
    if (done || Math.hypot(step * da, step * db) < 1e-12) return checked({ method, a, b, rows, iterations: it });
  }
  throw new TwinfedError(
    'RECALIBRATION_UNFIT',
    'The recalibration did not converge: the held-out scores separate the outcomes perfectly.',
  );
}

/**
 * Whether a slope a > 0 (and, for Platt, an intercept) can push the log loss to 0: every positive's log-odds above every
 * negative's (Platt), or every positive above 0 and every negative below (temperature).
 */
function separable(p: Points, withB: boolean): boolean {
  let maxNeg = -Infinity;
  let minPos = Infinity;
  p.z.forEach((z, i) => {
    if (p.y[i] === 1) minPos = Math.min(minPos, z);
    else maxNeg = Math.max(maxNeg, z);
  });
  return withB ? maxNeg < minPos : maxNeg < 0 && minPos > 0;
}

function checked(fit: RecalibrationFit): RecalibrationFit {
  if (!(Number.isFinite(fit.a) && Number.isFinite(fit.b)) || fit.a <= 0 || Math.abs(fit.b) > 1e6 || fit.a > 1e6)
    throw new TwinfedError(
      'RECALIBRATION_UNFIT',
      `The fitted recalibration (a = ${fit.a}, b = ${fit.b}) would not keep the model's ranking of scores.`,
    );
  return fit;
}

/** Fits `method` on a (summed) histogram of {@link logitHistogram}: what the coordinator does with the cohort's secure sum. */
export function fitRecalibration(sums: ArrayLike<number>, method: RecalibrationMethod): RecalibrationFit {
  return fitPoints(pointsOf(sums), method);
}

/** Fits `method` on rows themselves (no grid): the pooled reference the federated fit is checked against. */
export function fitRecalibrationOnRows(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  method: RecalibrationMethod,
): RecalibrationFit {
  return fitPoints({ z: Array.from(logits, clampZ), y: Array.from(labels), w: Array.from(logits, () => 1) }, method);
}

/** A recalibrated probability: σ(a·z + b) of the model's log-odds z (z clamped to the grid it was fitted on). */
export function recalibrated(z: number, params: { a: number; b: number }): number {
  return sigmoid(params.a * clampZ(z) + params.b);
}
