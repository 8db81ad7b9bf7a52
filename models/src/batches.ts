import * as tf from '@tensorflow/tfjs';
import { SeededRandom } from '@twinfed/shared';

/** One mini-batch: rows `perm[start .. start+size)` of the current epoch's permutation. */
interface BatchSlot {
  readonly perm: Int32Array;
  readonly start: number;
  readonly size: number;
  /** True on the first batch of a new permutation. */
  readonly newEpoch: boolean;
}

/**
 * The order of mini-batches, like a PyTorch `DataLoader(shuffle=True, drop_last=False)` that is never
 * reset: each epoch is a fresh seeded permutation of 0..n-1 cut into batches, the last one partial.
 * It persists across rounds: a round that stops mid-epoch is continued by the next round.
 */
export class BatchSchedule {
  private readonly rng: SeededRandom;
  private perm: Int32Array;
  private pos: number;

  constructor(readonly options: { n: number; batchSize: number; seed: number }) {
    if (!Number.isInteger(options.n) || options.n < 1) throw new RangeError('a training set needs at least one row');
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1)
      throw new RangeError('batchSize must be a positive integer');
    this.rng = new SeededRandom(options.seed);
    this.perm = new Int32Array(0);
    this.pos = options.n;
  }

  /** Batches per epoch (the last one may be partial). */
  get batchesPerEpoch(): number {
    return Math.ceil(this.options.n / this.options.batchSize);
  }

  /** The next batch, reshuffling when the current permutation is used up. */
  next(): BatchSlot {
    const { n, batchSize } = this.options;
    let newEpoch = false;
    if (this.pos >= n) {
      const order = Array.from({ length: n }, (_, i) => i);
      this.perm = Int32Array.from(this.rng.shuffle(order));
      this.pos = 0;
      newEpoch = true;
    }
    const start = this.pos;
    const size = Math.min(batchSize, n - start);
    this.pos += size;
    return { perm: this.perm, start, size, newEpoch };
  }
}

/**
 * Mini-batch tensors following a {@link BatchSchedule}. Once per epoch the whole data set is gathered
 * into permuted order; each batch is then a contiguous row slice (cheap: no index tensor per step).
 */
export class TensorBatches {
  private readonly schedule: BatchSchedule;
  private permX: tf.Tensor2D | undefined;
  private permY: tf.Tensor2D | undefined;

  constructor(private readonly data: { x: tf.Tensor2D; y: tf.Tensor2D; batchSize: number; seed: number }) {
    this.schedule = new BatchSchedule({ n: data.x.shape[0], batchSize: data.batchSize, seed: data.seed });
  }

  /** Batches per epoch. */
  get batchesPerEpoch(): number {
    return this.schedule.batchesPerEpoch;
  }

  /** The next `[x, y]` batch and the data rows it holds, in batch order; the caller disposes both tensors. */
  next(): [tf.Tensor2D, tf.Tensor2D, Int32Array] {
    const slot = this.schedule.next();
    if (slot.newEpoch || !this.permX || !this.permY) {
      tf.dispose([this.permX, this.permY]);
      const { x, y } = this.data;
      [this.permX, this.permY] = tf.tidy(() => {
        const idx = tf.tensor1d(slot.perm, 'int32');
        return [tf.gather(x, idx), tf.gather(y, idx)];
      });
    }
    const d = this.permX.shape[1];
    return [
      tf.slice(this.permX, [slot.start, 0], [slot.size, d]),
      tf.slice(this.permY, [slot.start, 0], [slot.size, 1]),
      slot.perm.subarray(slot.start, slot.start + slot.size),
    ];
  }

  /** Frees the permuted copies (not the source tensors). */
  dispose(): void {
    tf.dispose([this.permX, this.permY]);
    this.permX = undefined;
    this.permY = undefined;
  }
}
