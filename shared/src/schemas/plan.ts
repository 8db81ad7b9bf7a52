import { z } from 'zod';
import { SECAGG_MAX_COHORT } from '../crypto/secagg';
import {
  DEFAULT_SECAGG_GRAPH,
  SECAGG_GRAPH_SECURITY_BITS,
  SECAGG_MAX_SPARSE_COHORT,
  secaggGraphParameters,
  type SecaggGraphOptions,
} from '../crypto/secagg-graph';
import { DDP_SUM_LIMIT, ddpEpsilon, ddpParameters, ddpSumBound, type DdpParameters } from '../dp/distributed';
import { gaussianDpEpsilon } from '../dp/gaussian-accountant';
import { isCoxModel, layoutOf, ModelSpecSchema } from '../model-spec';
import { RecalibrationPlanSchema } from './recalibration';
import {
  STRATEGIES,
  STRATEGY_SCHEMAS,
  strategiesAggregating,
  strategyDeclaration,
  type StrategyName,
} from '../strategies/registry';
import { layoutSize } from '../weights/types';
import { featureNames, FeatureDerivationSchema, LabelDerivationSchema, RiskTiersSchema } from './features';
import { PopulationSettingsSchema } from './population';

const lr = z.number().positive().max(100);

/** Server-side strategy and its hyperparameters, selected by name (FLamby's formulas); the registered strategies (../strategies). */
export const StrategySchema = z
  .discriminatedUnion('name', STRATEGY_SCHEMAS)
  .describe('The server-side aggregation strategy, selected by `name`, with its hyperparameters.');
export type { StrategyConfig, StrategyName } from '../strategies/registry';

/** Strategies that need every site's update on its own (robust aggregation): never with secure aggregation or central DP. */
export const ROBUST_STRATEGIES: readonly StrategyName[] = strategiesAggregating('individual');
const MEAN_STRATEGIES = strategiesAggregating('mean');
const RELAY_STRATEGIES = strategiesAggregating('relay');
const quoted = (names: readonly string[], last = 'and'): string => {
  const q = names.map((n) => '`' + n + '`');
  return q.length < 2 ? q.join('') : `${q.slice(0, -1).join(', ')} ${last} ${q[q.length - 1]}`;
};

/** Default of `training.maxExamplesPerSite`: the most training rows one site may claim (and so its weight in a mean). */
export const DEFAULT_MAX_EXAMPLES_PER_SITE = 1_000_000;
/**
 * Upper limit of `training.maxExamplesPerSite`: 2^29, so that nᵢ·wᵢ of a float32 weight is exact in float64 and the
 * sum of the claims of up to 100,000 sites (< 2^46) is an exact integer.
 */
export const MAX_EXAMPLES_PER_SITE_LIMIT = 2 ** 29;

/** Local training at each site, per round. Exactly one of `steps` (mini-batch steps) or `epochs`. */
const TrainingSchema = z
  .object({
    steps: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .describe('Mini-batch steps each site takes per round (give this or epochs).'),
    epochs: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .optional()
      .describe('Passes over the site’s training rows per round (give this or steps).'),
    batchSize: z.number().int().min(1).max(65_536).default(32).describe('Rows per mini-batch.'),
    optimizer: z
      .enum(['sgd', 'adam'])
      .default('sgd')
      .describe('Local optimiser; its state persists from round to round at each site.'),
    lr: lr.default(0.01).describe('Local learning rate.'),
    maxExamplesPerSite: z
      .number()
      .int()
      .min(1)
      .max(MAX_EXAMPLES_PER_SITE_LIMIT)
      .optional()
      .describe(
        `The most training examples one site may claim for an update (its weight in example-weighted means); default ${DEFAULT_MAX_EXAMPLES_PER_SITE.toLocaleString('en-US')}. An update claiming more is refused (EXAMPLES_OUT_OF_RANGE); a site with more rows trains on all of them and claims this number. At most 2^29 (${MAX_EXAMPLES_PER_SITE_LIMIT.toLocaleString('en-US')}).`,
      ),
  })
  .strict()
  .refine((t) => (t.steps === undefined) !== (t.epochs === undefined), {
    message: 'give exactly one of training.steps or training.epochs',
  })
  .describe('Local training at each selected site, per round.');
/** Local training settings (see {@link TrainingSchema}). */
export type TrainingConfig = z.infer<typeof TrainingSchema>;

/** The plan's bound on one site's claimed example count (`training.maxExamplesPerSite`, or its default). */
export function maxExamplesPerSite(training: Pick<TrainingConfig, 'maxExamplesPerSite'>): number {
  return training.maxExamplesPerSite ?? DEFAULT_MAX_EXAMPLES_PER_SITE;
}

/** Smallest `privacy.dp.noiseMultiplier`: below it the Gaussian mechanism's ε per round is too large to mean anything. */
export const MIN_DP_NOISE_MULTIPLIER = 0.3;
/** Largest `privacy.dp.noiseMultiplier` (a finite bound; more noise than this drowns any model). */
export const MAX_DP_NOISE_MULTIPLIER = 100;
/** Largest `privacy.dp.delta`: δ is the chance the guarantee fails outright, so it must be small (typically < 1 / patients). */
const MAX_DP_DELTA = 1e-3;
/** Largest `privacy.dp.clip` (L2 norm of an update delta): a finite bound, far above any real update of these models. */
const MAX_DP_CLIP = 10_000;

/** Privacy options of a federation. */
const PrivacySchema = z
  .object({
    /** Masked aggregation of model updates (Bonawitz et al.; crypto/secagg): the coordinator only learns the sum. */
    secureAggregation: z
      .boolean()
      .default(false)
      .describe(
        'Secure aggregation (pairwise masks, Bonawitz et al.): the coordinator only learns the sum of the updates, never one site’s.',
      ),
    /** Optional, without a default: plans written before it keep their digest (absent: {@link DEFAULT_SECAGG_GRAPH}). */
    secureAggregationGraph: z
      .object({
        graph: z
          .enum(['complete', 'sparse', 'auto'])
          .default(DEFAULT_SECAGG_GRAPH.graph)
          .describe(
            `Who shares secrets with and masks against whom. \`complete\`: every site with every other (Bonawitz et al.; at most ${SECAGG_MAX_COHORT} sites). \`sparse\`: SecAgg+ (Bell et al.): each site only with its k neighbours in a random k-regular (Harary) graph derived from a public seed of the round, k and the Shamir threshold t the smallest that keep the chance of a failed recovery, of t corrupt neighbours or of a disconnected honest subgraph below 2^-${SECAGG_GRAPH_SECURITY_BITS} (at most ${SECAGG_MAX_SPARSE_COHORT} sites). \`auto\` (default): sparse when such a k is below n − 1, else complete.`,
          ),
        dropoutFraction: z
          .number()
          .min(0)
          .lt(1 / 3)
          .default(DEFAULT_SECAGG_GRAPH.dropoutFraction)
          .describe(
            `δ: the fraction of a round's cohort that may drop out (default ${DEFAULT_SECAGG_GRAPH.dropoutFraction}); the sparse graph still recovers every mask. In [0, 1/3): more than 2/3 of the cohort must sign the round.`,
          ),
        corruptFraction: z
          .number()
          .min(0)
          .lt(1 / 3)
          .default(DEFAULT_SECAGG_GRAPH.corruptFraction)
          .describe(
            `γ: the fraction of a round's cohort assumed to collude with the coordinator (default ${DEFAULT_SECAGG_GRAPH.corruptFraction}); no site has t corrupt neighbours. In [0, 1/3).`,
          ),
      })
      .strict()
      .optional()
      .describe(
        'The communication graph of secure aggregation (only with `secureAggregation`): complete (Bonawitz) or sparse (SecAgg+), chosen per round from the cohort size n, δ and γ. Absent: `auto` with the defaults.',
      ),
    dp: z
      .object({
        /** L2 bound on each site's update delta. */
        clip: z
          .number()
          .positive()
          .max(MAX_DP_CLIP)
          .describe(
            `L2 norm bound on each site’s update (delta from the base model); larger updates are scaled down. In (0, ${MAX_DP_CLIP}].`,
          ),
        /** Noise std ÷ sensitivity (> 0: clipping without noise is no privacy). */
        noiseMultiplier: z
          .number()
          .min(MIN_DP_NOISE_MULTIPLIER)
          .max(MAX_DP_NOISE_MULTIPLIER)
          .describe(
            `Noise standard deviation ÷ the L2 sensitivity of the mean update (clip ÷ the sites selected for the round, under add/remove of one site). With secure aggregation this is the noise the sum of the fewest survivors the round accepts carries at least (each site adds its share). In [${MIN_DP_NOISE_MULTIPLIER}, ${MAX_DP_NOISE_MULTIPLIER}]: below ${MIN_DP_NOISE_MULTIPLIER} one round alone spends a meaningless ε.`,
          ),
        delta: z
          .number()
          .positive()
          .max(MAX_DP_DELTA)
          .describe(
            `δ of (ε, δ)-differential privacy: the chance the guarantee fails. In (0, ${MAX_DP_DELTA}]; choose it below 1 / the number of patients of the federation.`,
          ),
        /** Refuse the plan when its rounds would spend more than this ε (exact Gaussian accounting). */
        maxEpsilon: z
          .number()
          .positive()
          .max(1000)
          .optional()
          .describe(
            'Refuse the plan when its rounds would spend more than this ε (exact Gaussian accounting over all rounds for central DP, the Skellam RDP bound for distributed DP). Without it, `plan check` and `federations create` warn: nothing caps ε.',
          ),
      })
      .strict()
      .optional()
      .describe(
        'Differential privacy at site level (add/remove of one site). Without secure aggregation it is central: the coordinator clips each update and adds Gaussian noise to the aggregate. With secure aggregation it is distributed: each site clips its update, rounds it to integers and adds its share of Skellam noise before masking, so no one sees an update without noise.',
      ),
    /** Absent means false; optional rather than defaulted so that plans written before it keep their digest. */
    shareContributorsWithSites: z
      .boolean()
      .optional()
      .describe(
        'Show sites which sites contributed to each version (site ids and example counts) and which were selected for a round. Absent or false: sites see only counts (`contributorCount` in the count-only metadata the coordinator signs for them); operators and researchers always see the full list.',
      ),
  })
  .strict()
  .describe('Privacy options: secure aggregation, differential privacy, or both (distributed DP).');

/**
 * How a plan's DP noise is added: `gaussian` (central DP: the coordinator clips and adds Gaussian noise), `skellam`
 * (distributed DP: with secure aggregation each site adds its share of Skellam noise before masking), or null.
 */
export type DpMechanism = 'gaussian' | 'skellam';

/** The plan's {@link DpMechanism}, or null without `privacy.dp`. */
export function dpMechanism(plan: Pick<Plan, 'privacy'>): DpMechanism | null {
  if (!plan.privacy.dp) return null;
  return plan.privacy.secureAggregation ? 'skellam' : 'gaussian';
}

/** The plan's secure-aggregation graph options, defaults filled in (site and coordinator build the round's graph from them). */
export function planSecaggGraph(plan: Pick<Plan, 'privacy'>): SecaggGraphOptions {
  return { ...DEFAULT_SECAGG_GRAPH, ...plan.privacy.secureAggregationGraph };
}

/** The Skellam mechanism's parameters of a distributed-DP plan (scale, variance, sensitivities), or null for another plan. */
export function planDdpParameters(plan: Pick<Plan, 'privacy' | 'model'>): DdpParameters | null {
  const dp = plan.privacy.dp;
  if (!dp || !plan.privacy.secureAggregation) return null;
  return ddpParameters({
    clip: dp.clip,
    noiseMultiplier: dp.noiseMultiplier,
    dimension: layoutSize(layoutOf(plan.model)),
  });
}

/**
 * The ε of (ε, δ = `privacy.dp.delta`) differential privacy spent after `releases` published rounds: exact Gaussian
 * accounting for central DP, the Skellam mechanism's RDP bound for distributed DP; null when the plan has no DP.
 * The coordinator signs it into each version; sites check it against their `--max-epsilon` floor with this same function.
 */
export function planEpsilonAfter(plan: Pick<Plan, 'privacy' | 'model'>, releases: number): number | null {
  const dp = plan.privacy.dp;
  if (!dp) return null;
  const ddp = planDdpParameters(plan);
  return ddp
    ? ddpEpsilon(ddp, releases, dp.delta)
    : gaussianDpEpsilon({ noiseMultiplier: dp.noiseMultiplier, releases, delta: dp.delta });
}

/** The ε a plan's `rounds` releases spend (see {@link planEpsilonAfter}); null when the plan has no DP (its ε is unbounded). */
export function planEpsilon(plan: Pick<Plan, 'privacy' | 'rounds' | 'model'>): number | null {
  return planEpsilonAfter(plan, plan.rounds);
}

/** Whether a plan lets sites see other sites' ids and example counts (`privacy.shareContributorsWithSites`; default false). */
export function sharesContributorsWithSites(plan: Pick<Plan, 'privacy'>): boolean {
  return plan.privacy.shareContributorsWithSites === true;
}

/** Who decides what runs: the sites' approval of the plan (see schemas/governance.ts). */
const GovernanceSchema = z
  .strictObject({
    requireApprovals: z
      .boolean()
      .describe(
        'true: a round opens only when at least `minSites` sites approved the current plan (its hash), and rounds select only among the sites that approved it. false: as when absent.',
      ),
  })
  .describe(
    'Plan approval by the sites. Each site tells the coordinator its decision about the plan’s hash (approved, rejected, or revoked after approving); a changed plan is pending again everywhere. With `requireApprovals`, a round opens only when at least `minSites` sites approved the current plan, and rounds select only among the sites that approved it. Absent or false: selection leaves out the sites that rejected or revoked the current plan; sites that have not decided stay eligible.',
  );

/** Whether a plan opens rounds only among sites that approved it (`governance.requireApprovals`; default false). */
export function requiresApprovals(plan: Pick<Plan, 'governance'>): boolean {
  return plan.governance?.requireApprovals === true;
}

/** The cross-site evaluation matrix at the end of the federation (schemas/cross-site.ts); opt-in. */
const CrossSiteEvaluationSchema = z
  .strictObject({
    deadlineSeconds: z
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .default(600)
      .describe(
        'Seconds each phase waits: for the sites’ sealed local models (or refusals), then for their results. A site silent past a deadline is left out (its row or column is marked missing).',
      ),
  })
  .describe(
    'Opt-in: once the federation has completed, each site that contributed and whose policy allows it trains a local-only model (its own training rows, this plan’s model and training, the same number of rounds), seals it to every contributing site’s key (the coordinator relays only ciphertext), and evaluates the final global model and every local model on its own test rows; only the metrics (AUC, or C-index for Cox models, and n) reach the coordinator, which signs the matrix. A site with fewer test rows than its k withholds its column. Not with differential privacy (per-site metrics are not covered by ε).',
  );

/** Update-norm clipping without noise: a robustness option (bounds what one site can move the model). */
const ClippingSchema = z
  .object({
    maxNorm: z
      .number()
      .positive()
      .finite()
      .describe(
        'L2 bound on each site’s update (its delta from the round’s base model); the coordinator scales a longer one down to this norm before the strategy aggregates. Choose it near the honest sites’ typical update norm (the `clipNorm`/`clippedSites` round metrics show its effect).',
      ),
  })
  .strict()
  .describe(
    'Update-norm clipping at the coordinator, without noise: bounds how far one site (faulty or malicious) can move the model in a round. Works with every strategy; not with secure aggregation or central DP (which clips at `privacy.dp.clip`).',
  );

/** Default of `data.minExamplesPerSite`: a site with fewer training rows refuses to take part. */
export const DEFAULT_MIN_EXAMPLES_PER_SITE = 20;

/** The cross-field rules of {@link DataSchema}, in words (the docs list them; the refinement below enforces them). */
export const DATA_RULES: readonly string[] = [
  '`labelRule` needs `derive` (a tabular plan labels rows from the site’s mapping).',
  'With `derive`, the feature names must be distinct and `features` must list exactly the derived inputs, in order: each derivation’s `name`, followed by `<name>.missing` when its missing policy is `indicator`.',
];

/**
 * How sites derive model inputs: the ordered feature names, the label and the normalisation policy.
 * A twin federation adds `derive` (one {@link FeatureDerivationSchema} per feature; `features` must then list
 * exactly `featureNames(derive)`, in order), `labelRule` (how a twin is labelled; `label` names the outcome),
 * risk `tiers` on the score and `population` reporting settings. Without `derive`, `features` names columns of
 * a tabular data set (the heart-disease demo).
 */
/**
 * How a plan scales features (`data.normalization`), the one vocabulary of the whole tree: `none`; `per-site`
 * z-scores with each site's own training rows; `federated` z-scores with the pooled statistics of all sites.
 */
export const NormalizationSchema = z.enum(['none', 'per-site', 'federated']);
/** A normalisation policy. */
export type Normalization = z.infer<typeof NormalizationSchema>;

export const DataSchema = z
  .object({
    features: z
      .array(z.string().min(1).max(200))
      .min(1)
      .max(100_000)
      .describe(
        'The model inputs, in order. Tabular: the feature names of the site mappings (their `name`s). Twins: exactly the derived inputs (see derive).',
      ),
    label: z.string().min(1).max(200).default('target').describe('Name of the outcome (shown in reports and errors).'),
    normalization: NormalizationSchema.default('per-site').describe(
      'Feature scaling: `none`; `per-site` z-scores with each site’s training rows; `federated` z-scores with the pooled statistics of all sites (a secure sum of counts and sums, before round 1).',
    ),
    derive: z
      .array(FeatureDerivationSchema)
      .min(1)
      .max(1000)
      .optional()
      .describe(
        'Twin federations: how each site derives every model input from a patient’s digital twin. Absent for tabular (CSV, heart-disease) plans.',
      ),
    labelRule: LabelDerivationSchema.optional().describe(
      'Twin federations: how a twin is labelled for training (needs derive).',
    ),
    tiers: RiskTiersSchema.optional().describe('Risk tiers on the score (default: low < 0.2 ≤ medium < 0.5 ≤ high).'),
    population: PopulationSettingsSchema.optional().describe(
      'Population reporting of scored twins: k-anonymous counts per risk tier × age band.',
    ),
    minExamplesPerSite: z
      .number()
      .int()
      .min(1)
      .max(1_000_000_000)
      .default(DEFAULT_MIN_EXAMPLES_PER_SITE)
      .describe(
        'A site with fewer training rows (after rejected rows and the test hold-out) refuses to take part and sends nothing (DATA_TOO_FEW_ROWS).',
      ),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.derive === undefined) {
      if (d.labelRule !== undefined)
        ctx.addIssue({ code: 'custom', path: ['labelRule'], message: 'labelRule needs derive' });
      return;
    }
    const names = d.derive.map((f) => f.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined)
      ctx.addIssue({ code: 'custom', path: ['derive'], message: `feature "${dup}" is derived twice` });
    const want = featureNames(d.derive);
    if (want.length !== d.features.length || want.some((n, i) => d.features[i] !== n)) {
      ctx.addIssue({
        code: 'custom',
        path: ['features'],
        message: `features must list the derived inputs in order: ${want.join(', ')}`,
      });
    }
  })
  .describe(
    'What the model sees: the ordered inputs, the label, normalisation and, for twin federations, how inputs and labels are derived.',
  );

/** The cross-field rules of {@link PlanSchema}, in words (the docs list them; the refinement below enforces them). */
export const PLAN_RULES: readonly string[] = [
  '`model.inputs` must equal the number of `data.features`.',
  'Secure aggregation hides individual updates, so it cannot run with the robust strategies (' +
    ROBUST_STRATEGIES.map((n) => '`' + n + '`').join(', ') +
    `), or with ${quoted(RELAY_STRATEGIES, 'or')}; with it, \`minSites\` must be at least 2. With \`privacy.dp\` too it is distributed DP (Skellam noise added by each site).`,
  ...STRATEGIES.flatMap((d) => d.rules),
  `DP (\`privacy.dp\`, central or distributed) needs a mean-delta strategy: ${quoted(MEAN_STRATEGIES, 'or')}.`,
  'With `privacy.dp.maxEpsilon`, the ε that `rounds` releases at `noiseMultiplier` spend (δ = `privacy.dp.delta`; Gaussian accounting for central DP, Skellam for distributed DP) must not exceed it.',
  'Distributed DP (secure aggregation with `privacy.dp`): the masked sum of the largest possible cohort (`sitesPerRound`, at most 255 sites), noise included, must stay below 2^53 except with probability 2^-64.',
  `\`privacy.secureAggregationGraph\` needs \`privacy.secureAggregation\`. With \`sitesPerRound\` given: \`graph: "sparse"\` needs a sparse graph over that many sites that meets the 2^-${SECAGG_GRAPH_SECURITY_BITS} bound, \`graph: "complete"\` at most ${SECAGG_MAX_COHORT} sites; secure aggregation takes at most ${SECAGG_MAX_SPARSE_COHORT} sites per round.`,
  '`clipping` needs individual updates: not with secure aggregation, nor with central DP (`privacy.dp` clips at its own `clip`).',
  '`sitesPerRound`, when given, must be at least `minSites`.',
  'A Cox model (`cox`, `cox-mlp`) trains on time-to-event rows: from a CSV mapping with time and event columns, or from twins with `data.labelRule` of kind `time-to-event` (and then `model.horizonDays` ≤ the rule’s `horizonDays`); with `training.batchSize` ≥ 2 (the partial likelihood compares rows within a mini-batch). A `time-to-event` label rule needs a Cox model.',
  '`recalibration` applies to binary models only (not `cox`, `cox-mlp`: their score is a risk at the horizon, not a probability to rescale), and not with `privacy.dp` (the histogram of held-out scores is not covered by ε).',
  'Exactly one of `training.steps` and `training.epochs`.',
];

/**
 * A federation plan: what model, trained how, for how many rounds, with which quorum and deadline.
 * Validated once on creation; stored with the federation; sent to each site with the round.
 */
export const PlanSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'letters, digits, space, dot, dash, underscore')
      .describe('Federation name: letters, digits, space, dot, dash and underscore, starting with a letter or digit.'),
    model: ModelSpecSchema,
    data: DataSchema,
    strategy: StrategySchema,
    training: TrainingSchema,
    rounds: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .describe('Number of rounds; each that succeeds publishes a signed model version.'),
    minSites: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(1)
      .describe(
        'Quorum: how many updates a round needs to aggregate; a round opens only when at least this many sites are available.',
      ),
    /**
     * Optional number of sites selected per round (a seeded sample of the eligible sites). With
     * `closeAt: 'quorum'`, selecting more than `minSites` is over-selection: the round closes at the first
     * `minSites` updates stored and later ones are refused as late (`ROUND_CLOSED`).
     */
    sitesPerRound: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .optional()
      .describe(
        'Sites selected per round (a seeded sample of the eligible sites; default all). With closeAt `quorum`, more than minSites is over-selection: the round closes at the first minSites updates and later ones are refused as late.',
      ),
    /**
     * When a round closes before its deadline: `'all'` (default) once every selected site has answered;
     * `'quorum'` as soon as `minSites` updates are stored. Either way, at the deadline it aggregates if at
     * least `minSites` answered and fails otherwise.
     */
    closeAt: z
      .enum(['all', 'quorum'])
      .default('all')
      .describe(
        'When a round closes before its deadline: `all` once every selected site has answered, `quorum` as soon as minSites updates are stored. At the deadline it aggregates with at least minSites updates and fails otherwise.',
      ),
    /**
     * A site that was selected and sent nothing in this many closed rounds in a row is skipped by selection
     * until it is seen again (a signed request or socket connection after the last round it missed), unless
     * fewer than `minSites` sites would be left.
     */
    maxMissedRounds: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(2)
      .describe(
        'A selected site that sent nothing in this many closed rounds in a row is skipped by selection until it is seen again (unless fewer than minSites would be left).',
      ),
    roundDeadlineSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .default(600)
      .describe('Seconds a round stays open for updates.'),
    /** The federation fails after this many rounds in a row end without a version (never wait forever). */
    maxConsecutiveFailedRounds: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(5)
      .describe('The federation fails after this many rounds in a row end without a version.'),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(42)
      .describe('Seed of the initial weights (PyTorch-identical), site selection and each site’s batch order.'),
    privacy: PrivacySchema.default({ secureAggregation: false }),
    clipping: ClippingSchema.optional(),
    /** Optional, without a default: plans written before it keep their digest. */
    governance: GovernanceSchema.optional(),
    /** Optional, without a default: plans written before it keep their digest. */
    recalibration: RecalibrationPlanSchema.optional(),
    /** Optional, without a default: plans written before it keep their digest. */
    crossSiteEvaluation: CrossSiteEvaluationSchema.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.model.inputs !== p.data.features.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['model', 'inputs'],
        message: `model.inputs (${p.model.inputs}) must equal the number of data.features (${p.data.features.length})`,
      });
    }
    if (p.recalibration !== undefined && p.privacy.dp) {
      ctx.addIssue({
        code: 'custom',
        path: ['recalibration'],
        message:
          'recalibration cannot run with privacy.dp: the sites’ histogram of held-out scores is not covered by the plan’s ε (as per-site evaluations are not)',
      });
    }
    const rule = p.data.labelRule;
    if (isCoxModel(p.model)) {
      if (p.recalibration !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['recalibration'],
          message: `recalibration (Platt or temperature scaling of a probability) applies to binary models only; a ${p.model.kind} model's score is a risk at its horizon from a baseline hazard`,
        });
      }
      if (p.data.derive !== undefined && rule?.kind !== 'time-to-event') {
        ctx.addIssue({
          code: 'custom',
          path: ['data', 'labelRule'],
          message: `a ${p.model.kind} model needs time-to-event rows: on twins, data.labelRule of kind "time-to-event" (days from the snapshot to the outcome's onset, censored at the last record or the horizon), not ${rule ? `"${rule.kind}"` : 'stored'} binary labels`,
        });
      }
      if (rule?.kind === 'time-to-event' && p.model.horizonDays > rule.horizonDays) {
        ctx.addIssue({
          code: 'custom',
          path: ['model', 'horizonDays'],
          message: `model.horizonDays (${p.model.horizonDays}) must not exceed data.labelRule.horizonDays (${rule.horizonDays}): the risk at the horizon needs follow-up that long`,
        });
      }
      if (p.training.batchSize < 2) {
        ctx.addIssue({
          code: 'custom',
          path: ['training', 'batchSize'],
          message: `a ${p.model.kind} model needs training.batchSize ≥ 2: its partial likelihood compares the rows of a mini-batch, and one row alone teaches nothing`,
        });
      }
    }
    if (!isCoxModel(p.model) && rule?.kind === 'time-to-event') {
      ctx.addIssue({
        code: 'custom',
        path: ['data', 'labelRule', 'kind'],
        message: `a time-to-event label needs a cox or cox-mlp model; a ${p.model.kind} model learns a binary label (use "condition-onset")`,
      });
    }
    const strategy = strategyDeclaration(p.strategy.name);
    if (strategy.aggregation === 'individual' && p.privacy.secureAggregation) {
      ctx.addIssue({
        code: 'custom',
        path: ['strategy', 'name'],
        message: `${p.strategy.name} needs individual updates and cannot run with secure aggregation`,
      });
    }
    if (strategy.aggregation === 'relay' && p.privacy.secureAggregation) {
      ctx.addIssue({
        code: 'custom',
        path: ['strategy', 'name'],
        message: `${p.strategy.name} passes one site’s weights on and cannot run with secure aggregation`,
      });
    } else if (strategy.aggregation === 'mean' && p.privacy.secureAggregation) {
      if (p.minSites < 2) {
        ctx.addIssue({
          code: 'custom',
          path: ['minSites'],
          message: 'secure aggregation needs minSites ≥ 2 (the sum of one site is that site)',
        });
      }
    }
    for (const issue of strategy.checkPlan(p.strategy, p)) ctx.addIssue({ code: 'custom', ...issue });
    const ddp = planDdpParameters(p);
    if (ddp) {
      // The unmasked sum of a full cohort (plus its noise) must stay where it decodes exactly, with overwhelming probability.
      const cohort = Math.min(p.sitesPerRound ?? SECAGG_MAX_COHORT, SECAGG_MAX_COHORT);
      const bound = ddpSumBound(ddp, { cohort, coordinates: ddp.dimension * p.rounds });
      if (!(bound < DDP_SUM_LIMIT)) {
        ctx.addIssue({
          code: 'custom',
          path: ['privacy', 'dp'],
          message: `distributed DP: the masked sum of ${cohort} sites could reach ${bound.toExponential(2)}, beyond the exactly decodable 2^53; lower the clip or the cohort`,
        });
      }
    }
    const dp = p.privacy.dp;
    if (dp?.maxEpsilon !== undefined) {
      const eps = planEpsilon(p)!;
      if (eps > dp.maxEpsilon) {
        ctx.addIssue({
          code: 'custom',
          path: ['privacy', 'dp', 'maxEpsilon'],
          message: `${p.rounds} rounds at noise ×${dp.noiseMultiplier} spend ε = ${eps.toFixed(2)} (δ = ${dp.delta}), over the maximum ${dp.maxEpsilon}`,
        });
      }
    }
    if (p.privacy.dp && strategy.aggregation !== 'mean') {
      ctx.addIssue({
        code: 'custom',
        path: ['privacy', 'dp'],
        message: `DP needs a mean-delta strategy (${MEAN_STRATEGIES.join(', ')}), not ${p.strategy.name}`,
      });
    }
    if (p.crossSiteEvaluation && p.privacy.dp) {
      ctx.addIssue({
        code: 'custom',
        path: ['crossSiteEvaluation'],
        message:
          'a cross-site evaluation reports exact per-site metrics that the plan’s ε does not cover: not with privacy.dp',
      });
    }
    if (p.clipping && p.privacy.secureAggregation) {
      ctx.addIssue({
        code: 'custom',
        path: ['clipping'],
        message: 'clipping needs individual updates, which secure aggregation hides from the coordinator',
      });
    } else if (p.clipping && p.privacy.dp) {
      ctx.addIssue({
        code: 'custom',
        path: ['clipping'],
        message: 'central DP already clips every update at privacy.dp.clip: remove clipping',
      });
    }
    const graph = p.privacy.secureAggregationGraph;
    if (graph && !p.privacy.secureAggregation) {
      ctx.addIssue({
        code: 'custom',
        path: ['privacy', 'secureAggregationGraph'],
        message: 'privacy.secureAggregationGraph needs privacy.secureAggregation: true',
      });
    } else if (graph?.graph === 'sparse' && p.sitesPerRound !== undefined) {
      if (!secaggGraphParameters(p.sitesPerRound, graph)) {
        ctx.addIssue({
          code: 'custom',
          path: ['privacy', 'secureAggregationGraph', 'graph'],
          message: `no sparse graph over ${p.sitesPerRound} sites (sitesPerRound) keeps the failure probability below 2^-${SECAGG_GRAPH_SECURITY_BITS} at dropoutFraction ${graph.dropoutFraction} and corruptFraction ${graph.corruptFraction}; use "auto" or "complete"`,
        });
      }
    } else if (graph?.graph === 'complete' && p.sitesPerRound !== undefined && p.sitesPerRound > SECAGG_MAX_COHORT) {
      ctx.addIssue({
        code: 'custom',
        path: ['privacy', 'secureAggregationGraph', 'graph'],
        message: `a complete secure-aggregation graph takes at most ${SECAGG_MAX_COHORT} sites per round, not ${p.sitesPerRound} (sitesPerRound); use "auto" or "sparse"`,
      });
    }
    if (p.privacy.secureAggregation && p.sitesPerRound !== undefined && p.sitesPerRound > SECAGG_MAX_SPARSE_COHORT) {
      ctx.addIssue({
        code: 'custom',
        path: ['sitesPerRound'],
        message: `secure aggregation takes at most ${SECAGG_MAX_SPARSE_COHORT} sites per round, not ${p.sitesPerRound}`,
      });
    }
    if (p.sitesPerRound !== undefined && p.sitesPerRound < p.minSites) {
      ctx.addIssue({ code: 'custom', path: ['sitesPerRound'], message: 'sitesPerRound must be at least minSites' });
    }
  })
  .describe(
    'A federation plan: what model, trained how, for how many rounds, with which quorum, deadline and privacy. Validated on creation, stored with the federation and sent to each site with the round.',
  );

/** A validated federation plan (defaults filled in). */
export type Plan = z.infer<typeof PlanSchema>;
/** A plan as written by a user, before defaults. */
export type PlanInput = z.input<typeof PlanSchema>;
