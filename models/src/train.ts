import * as tf from '@tensorflow/tfjs';
import {
  isCoxModel,
  layoutSize,
  TwinfedError,
  type ModelSpec,
  type TrainingConfig,
  type WeightSet,
} from '@twinfed/shared';
import { initBackend } from './backend';
import { TensorBatches } from './batches';
import { assertSplit, type Split } from './dataset';
import { coxPartialLikelihoodLoss } from './cox-loss';
import { bceWithLogits } from './loss';
import { createModel, weightTensors, withOnes, type TfModel } from './model';

/** Options of {@link createTrainer}. */
export interface CreateTrainerOptions {
  spec: ModelSpec;
  /** The site's training rows (already normalised); `d` must equal `spec.inputs`. */
  data: Split;
  training: TrainingConfig;
  /** Seeds the batch order. Same seed and inputs ⇒ bit-identical weights. */
  seed: number;
}

/** Per-round options: the weights to start from and the strategy's client-side loss terms. */
export interface TrainRoundOptions {
  weights: WeightSet;
  /** FedProx: adds (mu/2)·‖w − w_round_start‖² over all parameters. */
  proximal?: { mu: number };
  /** SCAFFOLD (FLamby's variant): subtracts ⟨w, correction⟩; `correction` is flat, in layout order. */
  scaffold?: { correction: Float32Array };
}

/** What one round of local training produced. */
export interface TrainRoundResult {
  weights: WeightSet;
  /** Size of the local training set (FedAvg's weight), not the number of rows visited. */
  numExamples: number;
  steps: number;
  /** Mean over the round's steps of the batch loss, BCE or Cox (without the FedProx/SCAFFOLD terms). */
  meanLoss: number;
}

/** A site's local trainer. It keeps its batch order and optimiser state from round to round. */
export interface Trainer {
  /** Loads `weights` into the model, runs the configured steps or epochs, returns the new weights. */
  trainRound(options: TrainRoundOptions): Promise<TrainRoundResult>;
  /** Steps one round runs. */
  readonly stepsPerRound: number;
  /** Frees every tensor the trainer holds. */
  dispose(): void;
}

/** Yield to the event loop this often during a round, so sockets and timers of the host stay alive. */
const YIELD_EVERY_MS = 50;

function makeOptimizer(training: TrainingConfig): tf.Optimizer {
  // PyTorch's Adam defaults (eps 1e-8; tfjs would otherwise use 1e-7).
  return training.optimizer === 'adam' ? tf.train.adam(training.lr, 0.9, 0.999, 1e-8) : tf.train.sgd(training.lr);
}

/**
 * A trainer with a custom step (`optimizer.minimize` over a loss closure), so FedProx and SCAFFOLD
 * terms join the BCE. The data, the model variables and the optimiser live for the trainer's lifetime;
 * each round assigns new values into the existing variables. Initialises the tfjs backend if needed.
 */
export async function createTrainer(options: CreateTrainerOptions): Promise<Trainer> {
  await initBackend();
  const { spec, data, training, seed } = options;
  assertSplit(data);
  if (data.d !== spec.inputs)
    throw new TwinfedError('INVALID_PLAN', `the data has ${data.d} features, the model expects ${spec.inputs}`);
  if (data.n < 1) throw new TwinfedError('BAD_REQUEST', 'no training rows');
  const batchLoss = lossOf(spec, data);
  // A ones column appended once: the first layer's bias rides in its stacked kernel (see TfModel).
  const x = tf.tidy(() => withOnes(tf.tensor2d(data.x, [data.n, data.d], 'float32')));
  const y = tf.tensor2d(data.y, [data.n, 1], 'float32');
  const batches = new TensorBatches({ x, y, batchSize: training.batchSize, seed });
  const model = createModel({ spec });
  const optimizer = makeOptimizer(training);
  const stepsPerRound = training.steps ?? (training.epochs ?? 1) * batches.batchesPerEpoch;

  return {
    stepsPerRound,
    async trainRound(round) {
      model.setWeights(round.weights);
      const extra = roundTerms(model, round);
      try {
        let lossSum = 0;
        let lastYield = performance.now();
        for (let step = 0; step < stepsPerRound; step++) {
          lossSum += trainStep({ model, optimizer, batches, loss: batchLoss, extra: extra.loss });
          if (performance.now() - lastYield > YIELD_EVERY_MS) {
            await new Promise<void>((resolve) => setImmediate(resolve));
            lastYield = performance.now();
          }
        }
        return {
          weights: model.getWeights(),
          numExamples: data.n,
          steps: stepsPerRound,
          meanLoss: lossSum / stepsPerRound,
        };
      } finally {
        extra.dispose();
      }
    },
    dispose() {
      batches.dispose();
      model.dispose();
      optimizer.dispose();
      tf.dispose([x, y]);
    },
  };
}

type ExtraLoss = (loss: tf.Scalar) => tf.Scalar;

/** A batch's loss from the model's output `[b, 1]`, its labels `[b, 1]` and its data rows. */
type BatchLoss = (output: tf.Tensor2D, y: tf.Tensor2D, rows: Int32Array) => tf.Scalar;

/**
 * The spec's training loss: BCE for binary models; for Cox models the negative partial log-likelihood of the
 * batch's rows (risk sets within the mini-batch, as FLamby), with `y` the event indicator and times from the data.
 */
function lossOf(spec: ModelSpec, data: Split): BatchLoss {
  if (!isCoxModel(spec)) return (output, y) => bceWithLogits(output, y);
  const { time, y: event } = data;
  if (!time) throw new TwinfedError('BAD_REQUEST', `a ${spec.kind} model needs time-to-event data (event times)`);
  return (output, _y, rows) =>
    coxPartialLikelihoodLoss(
      output,
      Array.from(rows, (r) => time[r]!),
      Array.from(rows, (r) => event[r]!),
      spec.ties,
    );
}

/** The round's FedProx/SCAFFOLD terms as a loss transform, holding the tensors they need until disposed. */
function roundTerms(model: TfModel, round: TrainRoundOptions): { loss?: ExtraLoss; dispose(): void } {
  const held: tf.Tensor[] = [];
  const terms: ExtraLoss[] = [];
  const vars = model.variables;
  if (round.proximal) {
    const mu = round.proximal.mu;
    if (!(mu >= 0) || !Number.isFinite(mu))
      throw new TwinfedError('INVALID_PLAN', 'FedProx mu must be a finite number ≥ 0');
    const anchor = weightTensors(round.weights);
    held.push(...anchor);
    terms.push((loss) =>
      tf.add(loss, tf.mul(mu / 2, tf.addN(vars.map((v, i) => tf.sum(tf.squaredDifference(v, anchor[i]!)))))),
    );
  }
  if (round.scaffold) {
    const { correction } = round.scaffold;
    if (correction.length !== layoutSize(model.layout))
      throw new TwinfedError('INVALID_WEIGHTS', 'the SCAFFOLD correction does not match the model layout');
    const c = weightTensors({ layout: model.layout, data: correction });
    held.push(...c);
    terms.push((loss) => tf.sub(loss, tf.addN(vars.map((v, i) => tf.sum(tf.mul(v, c[i]!))))));
  }
  const dispose = (): void => tf.dispose(held);
  if (terms.length === 0) return { dispose };
  return { loss: (loss) => terms.reduce((acc, term) => term(acc), loss), dispose };
}

/** One optimiser step on the next batch; returns that batch's loss. */
function trainStep(args: {
  model: TfModel;
  optimizer: tf.Optimizer;
  batches: TensorBatches;
  loss: BatchLoss;
  extra: ExtraLoss | undefined;
}): number {
  const { model, optimizer, batches, extra } = args;
  const [xb, yb, rows] = batches.next();
  let bce: tf.Scalar | undefined;
  const cost = optimizer.minimize(
    () => {
      const loss = args.loss(model.logits(xb, { augmented: true }), yb, rows);
      if (!extra) return loss;
      bce = tf.keep(loss);
      return extra(loss);
    },
    true,
    model.variables as tf.Variable[],
  );
  const kept = bce;
  const value = (kept ?? cost)!.dataSync()[0]!;
  tf.dispose([xb, yb]);
  if (cost) cost.dispose();
  if (kept) kept.dispose();
  return value;
}
