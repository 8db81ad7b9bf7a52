import * as tf from '@tensorflow/tfjs';

const bce = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [z, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([z, y]);
  const value = tf.mean(tf.sub(tf.add(tf.relu(z), tf.log1p(tf.exp(tf.neg(tf.abs(z))))), tf.mul(z, y))) as tf.Scalar;
  const gradFunc = (dy: tf.Scalar, saved: tf.Tensor[]): tf.Tensor[] => {
    const [zs, ys] = saved as [tf.Tensor, tf.Tensor];
    return [tf.mul(dy, tf.div(tf.sub(tf.sigmoid(zs), ys), zs.shape[0] ?? 1)), tf.zerosLike(ys)];
  };
  return { value, gradFunc };
});

/**
 * Mean binary cross-entropy of logits `z` against 0/1 labels `y` (both `[n, 1]`), computed stably as
 * `max(z,0) − z·y + log(1 + e^−|z|)`; it equals PyTorch's `BCELoss(sigmoid(z), y)`.
 * The gradient is written out, `(sigmoid(z) − y) / n`, which is both exact and fewer ops per step
 * than differentiating the formula (the step count of the FLamby benchmark makes that matter).
 */
export function bceWithLogits(z: tf.Tensor, y: tf.Tensor): tf.Scalar {
  return bce(z, y);
}
