import { z } from 'zod';
import { gaussianDpEpsilon } from '../dp';
import { ModelSpecSchema } from '../model-spec';
import { featureNames, FeatureDerivationSchema, LabelDerivationSchema, RiskTiersSchema } from './features';
import { PopulationSettingsSchema } from './population';


const lr = z.number().positive().max(100);
const fedOpt = {
  serverLr: lr,
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.999),
  tau: z.number().positive().default(1e-8),
};

/** Server-side strategy and its hyperparameters, selected by name (DESIGN §5, FLamby's formulas). */
export const StrategySchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('fedavg'), serverLr: lr.default(1) }).strict(),
  z.object({ name: z.literal('fedprox'), mu: z.number().min(0).max(100), serverLr: lr.default(1) }).strict(),
  z.object({ name: z.literal('scaffold'), serverLr: lr.default(1) }).strict(),
  z.object({ name: z.literal('fedadam'), ...fedOpt }).strict(),
  z.object({ name: z.literal('fedyogi'), ...fedOpt }).strict(),
  z.object({ name: z.literal('fedadagrad'), ...fedOpt }).strict(),
  z.object({ name: z.literal('cyclic'), deterministic: z.boolean().default(false) }).strict(),
  z.object({ name: z.literal('fedmedian') }).strict(),
  z.object({ name: z.literal('fedtrimmedavg'), beta: z.number().min(0).lt(0.5).default(0.2) }).strict(),
  z.object({ name: z.literal('krum'), byzantine: z.number().int().min(0).default(0), multi: z.number().int().min(1).default(1) }).strict(),
]);
/** A strategy selection (see {@link StrategySchema}). */
export type StrategyConfig = z.infer<typeof StrategySchema>;
/** Names of the available strategies. */
export type StrategyName = StrategyConfig['name'];

/** Local training at each site, per round. Exactly one of `steps` (mini-batch steps) or `epochs`. */
export const TrainingSchema = z
  .object({
    steps: z.number().int().min(1).max(1_000_000).optional(),
    epochs: z.number().int().min(1).max(10_000).optional(),
    batchSize: z.number().int().min(1).max(65_536).default(32),
    optimizer: z.enum(['sgd', 'adam']).default('sgd'),
    lr: lr.default(0.01),
  })
  .strict()
  .refine((t) => (t.steps === undefined) !== (t.epochs === undefined), {
    message: 'give exactly one of training.steps or training.epochs',
  });
/** Local training settings (see {@link TrainingSchema}). */
export type TrainingConfig = z.infer<typeof TrainingSchema>;

/** Privacy options of a federation. */
export const PrivacySchema = z
  .object({
    /** Masked aggregation of model updates (Bonawitz et al.; crypto/secagg): the coordinator only learns the sum. */
    secureAggregation: z.boolean().default(false),
    dp: z
      .object({
        /** L2 bound on each site's update delta. */
        clip: z.number().positive(),
        /** Noise std ÷ sensitivity (> 0: clipping without noise is no privacy). */
        noiseMultiplier: z.number().positive(),
        delta: z.number().positive().lt(1),
        /** Refuse the plan when its rounds would spend more than this ε (exact Gaussian accounting). */
        maxEpsilon: z.number().positive().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Default of `data.minExamplesPerSite`: a site with fewer training rows refuses to take part. */
export const DEFAULT_MIN_EXAMPLES_PER_SITE = 20;

/**
 * How sites derive model inputs: the ordered feature names, the label and the normalisation policy.
 * A twin federation adds `derive` (one {@link FeatureDerivationSchema} per feature; `features` must then list
 * exactly `featureNames(derive)`, in order), `labelRule` (how a twin is labelled; `label` names the outcome),
 * risk `tiers` on the score and `population` reporting settings. Without `derive`, `features` names columns of
 * a tabular data set (the heart-disease demo).
 */
export const DataSchema = z
  .object({
    features: z.array(z.string().min(1).max(200)).min(1).max(100_000),
    label: z.string().min(1).max(200).default('target'),
    normalization: z.enum(['none', 'per-site', 'federated']).default('per-site'),
    derive: z.array(FeatureDerivationSchema).min(1).max(1000).optional(),
    labelRule: LabelDerivationSchema.optional(),
    tiers: RiskTiersSchema.optional(),
    population: PopulationSettingsSchema.optional(),
    minExamplesPerSite: z.number().int().min(1).max(1_000_000_000).default(DEFAULT_MIN_EXAMPLES_PER_SITE),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.derive === undefined) {
      if (d.labelRule !== undefined) ctx.addIssue({ code: 'custom', path: ['labelRule'], message: 'labelRule needs derive' });
      return;
    }
    const names = d.derive.map((f) => f.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) ctx.addIssue({ code: 'custom', path: ['derive'], message: `feature "${dup}" is derived twice` });
    const want = featureNames(d.derive);
    if (want.length !== d.features.length || want.some((n, i) => d.features[i] !== n)) {
      ctx.addIssue({ code: 'custom', path: ['features'], message: `features must list the derived inputs in order: ${want.join(', ')}` });
    }
  });
/** The data part of a plan (see {@link DataSchema}). */
export type DataConfig = z.infer<typeof DataSchema>;

/**
 * A federation plan: what model, trained how, for how many rounds, with which quorum and deadline.
 * Validated once on creation; stored with the federation; sent to each site with the round.
 */
export const PlanSchema = z
  .object({
    name: z.string().min(1).max(100).regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'letters, digits, space, dot, dash, underscore'),
    model: ModelSpecSchema,
    data: DataSchema,
    strategy: StrategySchema,
    training: TrainingSchema,
    rounds: z.number().int().min(1).max(100_000),
    minSites: z.number().int().min(1).max(100_000).default(1),
    /**
     * Optional number of sites selected per round (a seeded sample of the eligible sites). With
     * `closeAt: 'quorum'`, selecting more than `minSites` is over-selection: the round closes at the first
     * `minSites` updates stored and later ones are refused as late (`ROUND_CLOSED`).
     */
    sitesPerRound: z.number().int().min(1).max(100_000).optional(),
    /**
     * When a round closes before its deadline: `'all'` (default) once every selected site has answered;
     * `'quorum'` as soon as `minSites` updates are stored. Either way, at the deadline it aggregates if at
     * least `minSites` answered and fails otherwise.
     */
    closeAt: z.enum(['all', 'quorum']).default('all'),
    /**
     * A site that was selected and sent nothing in this many closed rounds in a row is skipped by selection
     * until it is seen again (a signed request or socket connection after the last round it missed), unless
     * fewer than `minSites` sites would be left.
     */
    maxMissedRounds: z.number().int().min(1).max(1000).default(2),
    roundDeadlineSeconds: z.number().int().min(1).max(7 * 24 * 3600).default(600),
    /** The federation fails after this many rounds in a row end without a version (never wait forever). */
    maxConsecutiveFailedRounds: z.number().int().min(1).max(1000).default(5),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(42),
    privacy: PrivacySchema.default({ secureAggregation: false }),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.model.inputs !== p.data.features.length) {
      ctx.addIssue({ code: 'custom', path: ['model', 'inputs'], message: `model.inputs (${p.model.inputs}) must equal the number of data.features (${p.data.features.length})` });
    }
    const robust = ['fedmedian', 'fedtrimmedavg', 'krum'].includes(p.strategy.name);
    if (robust && p.privacy.secureAggregation) {
      ctx.addIssue({ code: 'custom', path: ['strategy', 'name'], message: `${p.strategy.name} needs individual updates and cannot run with secure aggregation` });
    }
    if (p.strategy.name === 'cyclic' && p.privacy.secureAggregation) {
      ctx.addIssue({ code: 'custom', path: ['strategy', 'name'], message: 'cyclic passes one site’s weights on and cannot run with secure aggregation' });
    } else if (!robust && p.privacy.secureAggregation) {
      if (p.privacy.dp) {
        ctx.addIssue({ code: 'custom', path: ['privacy', 'dp'], message: 'central DP clips each update, which secure aggregation hides from the coordinator: choose one' });
      }
      if (p.minSites < 2) {
        ctx.addIssue({ code: 'custom', path: ['minSites'], message: 'secure aggregation needs minSites ≥ 2 (the sum of one site is that site)' });
      }
    }
    if (p.strategy.name === 'cyclic' && p.minSites !== 1) {
      ctx.addIssue({ code: 'custom', path: ['minSites'], message: 'cyclic trains one site per round: minSites must be 1' });
    }
    const dp = p.privacy.dp;
    if (dp?.maxEpsilon !== undefined) {
      const eps = gaussianDpEpsilon({ noiseMultiplier: dp.noiseMultiplier, releases: p.rounds, delta: dp.delta });
      if (eps > dp.maxEpsilon) {
        ctx.addIssue({ code: 'custom', path: ['privacy', 'dp', 'maxEpsilon'], message: `${p.rounds} rounds at noise ×${dp.noiseMultiplier} spend ε = ${eps.toFixed(2)} (δ = ${dp.delta}), over the maximum ${dp.maxEpsilon}` });
      }
    }
    if (p.privacy.dp && (robust || p.strategy.name === 'cyclic')) {
      ctx.addIssue({ code: 'custom', path: ['privacy', 'dp'], message: `central DP needs a mean-delta strategy (fedavg, fedprox, scaffold, fedadam, fedyogi, fedadagrad), not ${p.strategy.name}` });
    }
    if (p.strategy.name === 'krum' && p.minSites < 2 * p.strategy.byzantine + 3) {
      ctx.addIssue({ code: 'custom', path: ['minSites'], message: 'krum needs minSites ≥ 2·byzantine + 3' });
    }
    if (p.sitesPerRound !== undefined && p.sitesPerRound < p.minSites) {
      ctx.addIssue({ code: 'custom', path: ['sitesPerRound'], message: 'sitesPerRound must be at least minSites' });
    }
  });

/** A validated federation plan (defaults filled in). */
export type Plan = z.infer<typeof PlanSchema>;
/** A plan as written by a user, before defaults. */
export type PlanInput = z.input<typeof PlanSchema>;
