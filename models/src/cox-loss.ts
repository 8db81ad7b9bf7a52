import * as tf from '@tensorflow/tfjs';

/** How tied event times enter the partial likelihood. */
export type CoxTies = 'breslow' | 'efron';

/**
 * The risk-set structure of a batch of time-to-event rows, computed from the data alone (no gradient):
 * rows sorted by time, latest first, so that the risk set of a row (everyone whose time is ≥ its own) is a
 * prefix of that order ending at the last row tied with it.
 */
interface RiskSets {
  /** Batch row at each sorted position. */
  readonly order: Int32Array;
  /** For each event (in sorted order): its sorted position, the end (inclusive) and start of its tie group. */
  readonly eventPos: Int32Array;
  readonly groupEnd: Int32Array;
  readonly groupStart: Int32Array;
  /** Efron's fraction l / d for each event: its rank l among the d events of its tie group (0 for Breslow). */
  readonly efron: Float32Array;
}

function riskSets(time: ArrayLike<number>, event: ArrayLike<number>, ties: CoxTies): RiskSets {
  const n = time.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => time[b]! - time[a]! || a - b);
  const eventPos: number[] = [];
  const groupEnd: number[] = [];
  const groupStart: number[] = [];
  const efron: number[] = [];
  for (let start = 0; start < n; ) {
    let end = start;
    while (end + 1 < n && time[order[end + 1]!] === time[order[start]!]) end++;
    let events = 0;
    for (let k = start; k <= end; k++) events += event[order[k]!] === 1 ? 1 : 0;
    let rank = 0;
    for (let k = start; k <= end; k++) {
      if (event[order[k]!] !== 1) continue;
      eventPos.push(k);
      groupEnd.push(end);
      groupStart.push(start);
      efron.push(ties === 'efron' ? rank / events : 0);
      rank++;
    }
    start = end + 1;
  }
  return {
    order,
    eventPos: Int32Array.from(eventPos),
    groupEnd: Int32Array.from(groupEnd),
    groupStart: Int32Array.from(groupStart),
    efron: Float32Array.from(efron),
  };
}

/**
 * The negative Cox partial log-likelihood of one batch, divided by the batch's row count (as FLamby's
 * Fed-TCGA-BRCA loss, so a batch without events contributes 0 and the scale does not depend on the event rate):
 *
 *   −(1/n) Σ_{events i} [ η_i − log( Σ_{j: t_j ≥ t_i} e^{η_j} − f_i · Σ_{k tied with i, event} e^{η_k} ) ]
 *
 * with f_i = 0 (Breslow) or l/d (Efron: the l-th of d events tied at t_i). Risk sets are the batch's own rows.
 * `eta` is the log relative hazard `[n, 1]`; `time` and `event` are the batch rows' times and 0/1 events.
 * A constant added to every η cancels, so a bias on the risk score gets no gradient. Computed stably: the risk
 * sums are cumulative sums of e^{η − max η} over rows sorted by time.
 */
export function coxPartialLikelihoodLoss(
  eta: tf.Tensor,
  time: ArrayLike<number>,
  event: ArrayLike<number>,
  ties: CoxTies,
): tf.Scalar {
  const n = time.length;
  if (event.length !== n || eta.size !== n) throw new RangeError('eta, time and event must have one value per row');
  const sets = riskSets(time, event, ties);
  // No tf.tidy here: the caller's gradient tape needs the intermediates (train and evaluate run this inside one).
  if (sets.eventPos.length === 0) return tf.mul(tf.sum(eta), 0) as tf.Scalar;
  const sorted = tf.gather(tf.reshape(eta, [n]), tf.tensor1d(sets.order, 'int32'));
  const shift = tf.max(sorted);
  const rel = tf.exp(tf.sub(sorted, shift));
  const zero = tf.zeros([1]);
  const riskSum = tf.concat([zero, tf.cumsum(rel)]);
  const end1 = tf.tensor1d(Int32Array.from(sets.groupEnd, (e) => e + 1), 'int32');
  let denominator = tf.gather(riskSum, end1);
  if (ties === 'efron') {
    const isEvent = new Float32Array(n);
    for (const p of sets.eventPos) isEvent[p] = 1;
    const eventSum = tf.concat([zero, tf.cumsum(tf.mul(rel, tf.tensor1d(isEvent)))]);
    const tiedEvents = tf.sub(tf.gather(eventSum, end1), tf.gather(eventSum, tf.tensor1d(sets.groupStart, 'int32')));
    denominator = tf.sub(denominator, tf.mul(tf.tensor1d(sets.efron), tiedEvents));
  }
  const etaEvents = tf.gather(sorted, tf.tensor1d(sets.eventPos, 'int32'));
  const terms = tf.sub(tf.sub(etaEvents, shift), tf.log(denominator));
  return tf.div(tf.neg(tf.sum(terms)), n) as tf.Scalar;
}
