import {
  createTrainer,
  evaluateModel,
  evaluationMetrics,
  fitStandardizer,
  modelOutputs,
  type CreateTrainerOptions,
  type EvaluateOptions,
  type Evaluation,
  type SurvivalEvaluation,
  type Standardizer,
  type Trainer,
  type TrainRoundResult,
} from '@twinfed/models';
import {
  DEFAULT_MIN_CELL,
  TwinfedError,
  clientTermsFor,
  initialWeights,
  isCoxModel,
  layoutOf,
  sha256,
  type ClientConfig,
  type EvaluationReport,
  type GridBaseline,
  type Layout,
  type Plan,
  type WeightSet,
} from '@twinfed/shared';
import { calibrationReport } from './calibration-report';
import type { LocalDataset } from './dataset';
import { normalizeDataset, standardizeDataset } from './normalize';
import { ScaffoldState } from './scaffold';
import type { VerifiedModel } from './verified-model';

/** The model operations a session uses (the real ones from `@twinfed/models`, or fakes in tests). */
export interface ModelOps {
  createTrainer(options: CreateTrainerOptions): Promise<Trainer>;
  evaluate(options: EvaluateOptions): Promise<Evaluation | SurvivalEvaluation>;
}

/** `@twinfed/models`' trainer and evaluator (binary metrics, or C-index and loss for a Cox model). */
export const defaultModelOps: ModelOps = { createTrainer, evaluate: evaluateModel };

/** Options of {@link FederationSession.create}. */
interface FederationSessionOptions {
  plan: Plan;
  dataset: LocalDataset;
  siteId: string;
  ops?: ModelOps;
  /** Overrides the trainer seed (default: derived from the plan's seed and the site id). */
  seed?: number;
  /** The federation's pooled z-score statistics (from the secure sum) for `data.normalization: 'federated'`. */
  standardizer?: Standardizer;
  onWarning?: (message: string) => void;
  /** The site's minimum cell size: reliability bins with fewer rows report their count only (default 10). */
  minCell?: number;
}

/** Per-site trainer seed: the plan's seed mixed with the site id, so sites shuffle differently but reproducibly. */
function siteSeed(planSeed: number, siteId: string): number {
  const h = sha256(`${planSeed}\n${siteId}`);
  return ((h[0]! << 23) | (h[1]! << 15) | (h[2]! << 7) | (h[3]! >>> 1)) >>> 0;
}

/**
 * Everything a site keeps for one federation: the plan, the normalised local data and one trainer whose
 * batch order and optimiser state persist from round to round.
 */
export class FederationSession {
  readonly layout: Layout;
  private readonly scaffold = new ScaffoldState();
  private pending: { baseVersionId: string; base: Float32Array; trained: Float32Array } | undefined;

  private constructor(
    readonly plan: Plan,
    private raw: LocalDataset,
    private data: LocalDataset,
    private trainer: Trainer,
    private readonly options: FederationSessionOptions,
  ) {
    this.layout = layoutOf(plan.model);
  }

  /** The local data in use, normalised as the plan says. */
  get dataset(): LocalDataset {
    return this.data;
  }

  /** The local data in use as given (before normalisation). */
  get rawDataset(): LocalDataset {
    return this.raw;
  }

  /**
   * The z-score statistics training uses: the federation's pooled ones (federated normalisation), the site's
   * train rows' (per-site, and federated without pooled statistics), or null (`none`). Scoring applies the same.
   */
  get standardizer(): Standardizer | null {
    const policy = this.plan.data.normalization;
    if (policy === 'none') return null;
    if (policy === 'federated' && this.options.standardizer) return this.options.standardizer;
    return fitStandardizer(this.raw.train);
  }

  /**
   * Checks that the local features are the plan's (same names, same order), normalises as the plan says and
   * creates the trainer. Throws `CONFIG_INVALID` when the data do not fit the plan.
   */
  static async create(options: FederationSessionOptions): Promise<FederationSession> {
    const { data, trainer } = await prepare(options, options.dataset);
    return new FederationSession(options.plan, options.dataset, data, trainer, options);
  }

  /**
   * Swaps in rebuilt local data (the twin store's training set of a new round): checks and normalises it and
   * creates a fresh trainer over it. Returns false, changing nothing, when `dataset` is the object in use.
   */
  async refresh(dataset: LocalDataset): Promise<boolean> {
    if (dataset === this.raw) return false;
    const { data, trainer } = await prepare({ ...this.options, onWarning: undefined }, dataset);
    this.trainer.dispose();
    this.trainer = trainer;
    this.data = data;
    this.raw = dataset;
    return true;
  }

  /**
   * One round of local training from the verified global model, with the client terms the plan's strategy declares
   * for this round (shared/src/strategies): a proximal term (FedProx) and/or a control-variate correction (SCAFFOLD,
   * see {@link ScaffoldState}).
   */
  async train(opts: { base: VerifiedModel; clientConfig: ClientConfig }): Promise<TrainRoundResult> {
    const { base, clientConfig } = opts;
    const terms = clientTermsFor(this.plan.strategy, clientConfig);
    const proximal = terms.proximal ? { proximal: terms.proximal } : {};
    if (!terms.controlVariates) return this.trainer.trainRound({ weights: base.weights, ...proximal });
    const { serverLr } = terms.controlVariates;
    const correction = this.scaffold.correctionFor({
      meta: base.meta,
      base: base.weights.data,
      serverLr,
      clientLr: this.plan.training.lr,
      localSteps: this.trainer.stepsPerRound,
    });
    const result = await this.trainer.trainRound({ weights: base.weights, ...proximal, scaffold: { correction } });
    this.pending = { baseVersionId: base.meta.versionId, base: base.weights.data, trained: result.weights.data };
    return result;
  }

  /** The coordinator acknowledged the update trained last: SCAFFOLD may use it to update its control state. */
  acknowledged(): void {
    if (this.pending) this.scaffold.remember(this.pending);
    this.pending = undefined;
  }

  /**
   * Metrics of `weights` on the local test split (non-finite values, e.g. AUC of a one-class split, dropped):
   * accuracy, AUC, loss and Brier score with the calibration (bins under the site's k withheld), or C-index and loss
   * for a Cox model (no calibration: its score is not a probability). A recalibrated version is scored with its
   * signed `recalibration`; a Cox version with a federated `baseline` adds the integrated Brier score.
   */
  async evaluate(
    weights: WeightSet,
    scoring: { recalibration?: { a: number; b: number } | undefined; baseline?: GridBaseline | undefined } = {},
  ): Promise<EvaluationReport> {
    const { recalibration, baseline } = scoring;
    const ops = this.options.ops ?? defaultModelOps;
    const e = await ops.evaluate({
      spec: this.plan.model,
      weights,
      data: this.dataset.test,
      ...(recalibration ? { recalibration } : {}),
      ...(baseline ? { baseline } : {}),
    });
    const calibration =
      'calibration' in e ? calibrationReport(e.calibration, this.options.minCell ?? DEFAULT_MIN_CELL) : undefined;
    return { n: e.n, metrics: evaluationMetrics(e), ...(calibration ? { calibration } : {}) };
  }

  /**
   * A Cox model's risk scores η of `weights` on the local training rows (normalised as in training), with their times
   * and events: what this site puts into the federated baseline.
   */
  async trainRiskScores(
    weights: WeightSet,
  ): Promise<{ eta: Float32Array; time: ArrayLike<number>; event: ArrayLike<number> }> {
    const train = this.dataset.train;
    if (!train.time) throw new TwinfedError('CONFIG_INVALID', 'A Cox baseline needs time-to-event rows.');
    const eta = await modelOutputs({ spec: this.plan.model, weights, x: train.x, n: train.n });
    return { eta, time: train.time, event: train.y };
  }

  /**
   * A local-only model for the cross-site evaluation: the plan's initial weights trained on this site's training rows
   * alone, with the plan's model and training settings, for as many rounds as the federation had (its own trainer,
   * seeded like the federation's; nothing of the federation's state is used).
   */
  async trainLocalOnly(): Promise<WeightSet> {
    const ops = this.options.ops ?? defaultModelOps;
    const trainer = await ops.createTrainer({
      spec: this.plan.model,
      data: this.data.train,
      training: this.plan.training,
      seed: this.options.seed ?? siteSeed(this.plan.seed, this.options.siteId),
    });
    try {
      let weights = initialWeights(this.plan.model, this.plan.seed);
      for (let r = 0; r < this.plan.rounds; r++) weights = (await trainer.trainRound({ weights })).weights;
      return weights;
    } finally {
      trainer.dispose();
    }
  }

  /** Frees the trainer's tensors. */
  dispose(): void {
    this.trainer.dispose();
  }
}

async function prepare(
  options: FederationSessionOptions,
  dataset: LocalDataset,
): Promise<{ data: LocalDataset; trainer: Trainer }> {
  const { plan } = options;
  checkFeatures(plan, dataset);
  checkOutcome(plan, dataset);
  let policy = plan.data.normalization;
  if (policy === 'federated' && !options.standardizer) {
    options.onWarning?.(
      'The plan asks for federated normalisation but no federated statistics are available; using per-site statistics.',
    );
    policy = 'per-site';
  }
  const data =
    policy === 'federated' ? standardizeDataset(dataset, options.standardizer!) : normalizeDataset(dataset, policy);
  if (data.train.n < 1) throw new TwinfedError('CONFIG_INVALID', 'The local training split is empty.');
  const ops = options.ops ?? defaultModelOps;
  const trainer = await ops.createTrainer({
    spec: plan.model,
    data: data.train,
    training: plan.training,
    seed: options.seed ?? siteSeed(plan.seed, options.siteId),
  });
  return { data, trainer };
}

/** A Cox plan needs time-to-event rows (a mapping with time and event columns); a binary plan needs labels. */
function checkOutcome(plan: Plan, dataset: LocalDataset): void {
  const timed = dataset.train.time !== undefined;
  if (isCoxModel(plan.model) && !timed) {
    throw new TwinfedError(
      'CONFIG_INVALID',
      `The federation trains a ${plan.model.kind} model on time-to-event data, but the local data have a binary label: map a time and an event column ("label": {"time": "<column>", "event": "<column>"}).`,
    );
  }
  if (!isCoxModel(plan.model) && timed) {
    throw new TwinfedError(
      'CONFIG_INVALID',
      `The federation trains a ${plan.model.kind} model on a binary label, but the local data map a time and an event column: map the label column and its positive values instead.`,
    );
  }
}

function checkFeatures(plan: Plan, dataset: LocalDataset): void {
  const want = plan.data.features;
  const have = dataset.features;
  if (dataset.train.d !== want.length || dataset.test.d !== want.length) {
    throw new TwinfedError(
      'CONFIG_INVALID',
      `The local data have ${dataset.train.d} features; the federation's plan expects ${want.length}.`,
    );
  }
  const i = want.findIndex((name, k) => have[k] !== name);
  if (i >= 0 || have.length !== want.length) {
    const k = i >= 0 ? i : want.length;
    throw new TwinfedError(
      'CONFIG_INVALID',
      `Feature ${k + 1} is "${have[k] ?? '(none)'}" locally but "${want[k] ?? '(none)'}" in the plan: map the columns in the plan's order.`,
    );
  }
}
