import * as tf from '@tensorflow/tfjs';

/** How tied event times enter the partial likelihood. */
export type CoxTies = 'breslow' | 'efron';

/** The loss of a batch and its gradient with respect to each row's η. */
interface CoxLossValue {
  readonly loss: number;
  readonly gradient: Float64Array;
}

/**
 * The negative Cox partial log-likelihood of one batch, divided by its row count (as FLamby's Fed-TCGA-BRCA loss,
 * so a batch without events contributes 0 and the scale does not depend on the event rate), with its gradient:
 *
 *   L = −(1/n) Σ_{events i} [ η_i − log( Σ_{j: t_j ≥ t_i} e^{η_j} − f_i · Σ_{k event at t_i} e^{η_k} ) ]
 *
 * with f_i = 0 (Breslow) or l/d (Efron: the l-th of d events tied at t_i). Risk sets are the batch's own rows.
 * In float64, over the rows sorted by time (latest first, so each risk set is a running sum), with η shifted by its
 * maximum. The gradient is written out, ∂L/∂η_k = (1/n)[−δ_k + e^{η_k}(Σ_{events i: t_i ≤ t_k} 1/D_i − δ_k Σ_{events
 * i tied with k} f_i/D_i)] for the denominators D_i: O(n log n), where differentiating through gathers in tfjs costs
 * O(n²) per step. A constant added to every η cancels, so a bias on the risk score gets no gradient.
 */
export function coxLoss(
  eta: ArrayLike<number>,
  time: ArrayLike<number>,
  event: ArrayLike<number>,
  ties: CoxTies,
): CoxLossValue {
  const n = eta.length;
  if (time.length !== n || event.length !== n) throw new RangeError('eta, time and event must have one value per row');
  const gradient = new Float64Array(n);
  if (n === 0) return { loss: 0, gradient };
  let shift = -Infinity;
  for (let i = 0; i < n; i++) shift = Math.max(shift, eta[i]!);
  const rel = Float64Array.from({ length: n }, (_, i) => Math.exp(eta[i]! - shift));
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => time[b]! - time[a]! || a - b);
  // Per tie group (latest first): the start in `order`, Σ 1/D over its events (A) and Σ f/D over them (B).
  const groups: { start: number; end: number; a: number; b: number }[] = [];
  let riskSum = 0;
  let loss = 0;
  for (let start = 0; start < n;) {
    let end = start;
    while (end + 1 < n && time[order[end + 1]!] === time[order[start]!]) end++;
    let tiedEvents = 0;
    let d = 0;
    for (let k = start; k <= end; k++) {
      const r = order[k]!;
      riskSum += rel[r]!;
      if (event[r] === 1) {
        tiedEvents += rel[r]!;
        d++;
        loss -= eta[r]! - shift;
      }
    }
    let a = 0;
    let b = 0;
    for (let l = 0; l < d; l++) {
      const f = ties === 'efron' ? l / d : 0;
      const denominator = riskSum - f * tiedEvents;
      loss += Math.log(denominator);
      a += 1 / denominator;
      b += f / denominator;
    }
    groups.push({ start, end, a, b });
    start = end + 1;
  }
  // Earliest group first: a row is in the risk set of every event at or before its time.
  let s = 0;
  for (let g = groups.length - 1; g >= 0; g--) {
    const { start, end, a, b } = groups[g]!;
    s += a;
    for (let k = start; k <= end; k++) {
      const r = order[k]!;
      const delta = event[r] === 1 ? 1 : 0;
      gradient[r] = (-delta + rel[r]! * (s - delta * b)) / n;
    }
  }
  return { loss: loss / n, gradient };
}

/**
 * {@link coxLoss} as a tfjs scalar of the batch's log relative hazards `eta` (`[n, 1]` or `[n]`), differentiable
 * in `eta` through the written-out gradient. `time` and `event` are the batch rows' times and 0/1 events.
 */
export function coxPartialLikelihoodLoss(
  eta: tf.Tensor,
  time: ArrayLike<number>,
  event: ArrayLike<number>,
  ties: CoxTies,
): tf.Scalar {
  const loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [scores] = args as [tf.Tensor];
    const value = coxLoss(scores.dataSync(), time, event, ties);
    const gradFunc = (dy: tf.Scalar): tf.Tensor =>
      tf.mul(tf.tensor(Float32Array.from(value.gradient), scores.shape, 'float32'), dy);
    return { value: tf.scalar(value.loss, 'float32'), gradFunc };
  });
  return loss(eta);
}
