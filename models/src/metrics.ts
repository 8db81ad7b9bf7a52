/**
 * Evaluation metrics of binary classifiers over plain arrays: `y` holds 0/1 labels, `p` predicted
 * probabilities of class 1. No tfjs, so each is checkable against hand-computed examples.
 */

/** Labels and probabilities of the same length. */
interface Scored {
  readonly y: ArrayLike<number>;
  readonly p: ArrayLike<number>;
}

/** Probabilities are clipped to [ε, 1 − ε] for the log loss. */
const LOG_LOSS_EPSILON = 1e-15;

function check({ y, p }: Scored): number {
  if (y.length !== p.length) throw new RangeError(`${y.length} labels but ${p.length} predictions`);
  return y.length;
}

/** Fraction correct; a prediction is positive when p > threshold (strictly, as FLamby). NaN when empty. */
export function accuracy(scored: Scored, threshold = 0.5): number {
  const n = check(scored);
  let correct = 0;
  for (let i = 0; i < n; i++) if ((scored.p[i]! > threshold ? 1 : 0) === scored.y[i]) correct++;
  return n === 0 ? NaN : correct / n;
}

/**
 * ROC AUC by ranks (Mann–Whitney U): P(score of a random positive > a random negative), ties
 * counting one half (tied scores share their average rank). NaN when only one class is present.
 */
export function rocAuc(scored: Scored): number {
  const n = check(scored);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scored.p[a]! - scored.p[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scored.p[order[j + 1]!] === scored.p[order[i]!]) j++;
    const rank = (i + j + 2) / 2; // average of 1-based ranks i+1 .. j+1
    for (let k = i; k <= j; k++) {
      if (scored.y[order[k]!] === 1) {
        positives++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean negative log-likelihood, probabilities clipped to [ε, 1 − ε]. NaN when empty. */
export function logLoss(scored: Scored): number {
  const n = check(scored);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(Math.max(scored.p[i]!, LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON);
    sum -= scored.y[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return n === 0 ? NaN : sum / n;
}

/** Mean squared difference between probability and label. NaN when empty. */
export function brierScore(scored: Scored): number {
  const n = check(scored);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (scored.p[i]! - scored.y[i]!) ** 2;
  return n === 0 ? NaN : sum / n;
}

/** One reliability-diagram bin: predictions in [lo, hi) (the last bin includes 1). */
export interface CalibrationBin {
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
  /** Mean predicted probability in the bin (NaN when empty). */
  readonly meanPredicted: number;
  /** Observed fraction of positives in the bin (NaN when empty). */
  readonly fractionPositive: number;
}

/** Equal-width calibration bins over [0, 1]; default 10 bins. */
export function calibrationBins(scored: Scored, bins = 10): CalibrationBin[] {
  const n = check(scored);
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError('bins must be a positive integer');
  const count = new Array<number>(bins).fill(0);
  const sumP = new Array<number>(bins).fill(0);
  const sumY = new Array<number>(bins).fill(0);
  for (let i = 0; i < n; i++) {
    const p = scored.p[i]!;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    count[b]!++;
    sumP[b]! += p;
    sumY[b]! += scored.y[i]!;
  }
  return count.map((c, b) => ({
    lo: b / bins,
    hi: (b + 1) / bins,
    count: c,
    meanPredicted: c === 0 ? NaN : sumP[b]! / c,
    fractionPositive: c === 0 ? NaN : sumY[b]! / c,
  }));
}

/** Expected calibration error: the count-weighted mean |meanPredicted − fractionPositive| over the bins. */
export function expectedCalibrationError(scored: Scored, bins = 10): number {
  const table = calibrationBins(scored, bins);
  const n = table.reduce((a, b) => a + b.count, 0);
  if (n === 0) return NaN;
  return table.reduce(
    (acc, b) => (b.count === 0 ? acc : acc + (b.count / n) * Math.abs(b.meanPredicted - b.fractionPositive)),
    0,
  );
}
