import * as tf from '@tensorflow/tfjs';

/**
 * Mean binary cross-entropy of logits `z` against 0/1 labels `y` (both `[n, 1]`), computed stably as
 * `softplus(z) − z·y`; it equals PyTorch's `BCELoss(sigmoid(z), y)`. The gradient with respect to `z`
 * is written out, `(sigmoid(z) − y) / n`: exact, and fewer ops per step than differentiating the
 * formula (the step count of the FLamby benchmark makes that matter). Labels get no gradient.
 */
export function bceWithLogits(z: tf.Tensor, y: tf.Tensor): tf.Scalar {
  const loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [logits, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([logits]);
    const value = tf.mean<tf.Scalar>(tf.sub(tf.softplus(logits), tf.mul(logits, y)));
    const gradFunc = (dy: tf.Scalar, saved: tf.Tensor[]): tf.Tensor => {
      const zs = saved[0]!;
      return tf.mul(tf.sub(tf.sigmoid(zs), y), tf.div(dy, zs.shape[0] ?? 1));
    };
    return { value, gradFunc };
  });
  return loss(z);
}
