/**
 * The manifest of a model bundle (`manifest.json`): everything needed to apply a signed model version outside
 * twinfed — model kind and layers, the feature names in input order, the preprocessing, the label, the risk tiers,
 * metrics, lineage, DP ε, file digests — and the coordinator's signature with the signed metadata and key, so the
 * bundle verifies offline. Documented field by field in docs/model-bundle.md.
 */
import { z } from 'zod';
import { isCoxModel, ModelSpecSchema, layoutOf } from '../model-spec';
import { ModelVersionMetaSchema, type ModelVersionMeta } from '../envelope/model-version';
import {
  DEFAULT_RISK_TIERS,
  FeatureDerivationSchema,
  LabelDerivationSchema,
  featureColumns,
} from '../schemas/features';
import { NormalizationSchema, PlanSchema, type Plan } from '../schemas/plan';
import { LayoutSchema } from '../weights/layout-schema';
import { denseLayers } from './layers-model';

/** The `format` of every manifest. */
export const BUNDLE_FORMAT = 'twinfed-model-bundle';
/** The manifest format version this code writes and reads. */
export const BUNDLE_FORMAT_VERSION = 1;
/** Added to the std in z-scores, as in training: `(x − mean) / (std + 1e-9)`. */
const BUNDLE_STD_EPSILON = 1e-9;

/** Paths inside a bundle directory. */
export const BUNDLE_FILES = {
  manifest: 'manifest.json',
  weights: 'weights.twfw',
  tfjsDir: 'tfjs',
  tfjsModel: 'tfjs/model.json',
} as const;

const finite = z.number().refine(Number.isFinite, 'finite');
const sha = z.string().regex(/^[0-9a-f]{64}$/);
const b64 = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9+/]+={0,2}$/);

/** One model input, in input order. */
const BundleFeatureSchema = z.strictObject({
  index: z.int().min(0),
  name: z.string().min(1),
  /** `column`: a tabular column; `value` / `indicator`: a twin derivation's value or its 0/1 missing flag. */
  role: z.enum(['column', 'value', 'indicator']),
  derivation: FeatureDerivationSchema.nullable(),
});

/** Z-score statistics to apply before the model: `(x − mean) / (std + epsilon)` per feature. */
const ZScoreSchema = z.strictObject({
  mean: z.array(finite),
  std: z.array(finite.refine((v) => v >= 0, 'non-negative')),
  epsilon: z.literal(BUNDLE_STD_EPSILON),
  /** Training rows the statistics were computed over, when known. */
  rows: z.int().min(0).nullable(),
});
/** Z-score statistics (see {@link ZScoreSchema}). */
type ZScore = z.infer<typeof ZScoreSchema>;

/**
 * What to do to raw feature values before the model. `statistics` says which statistics this bundle carries:
 * `none` (the plan does not normalise), `federated-pooled` (the cohort's pooled statistics from the secure sum),
 * `site` (this exporting site's own training statistics: per-site normalisation, or a site's export) or `absent`
 * (per-site normalisation exported by the coordinator, which never sees any site's statistics).
 */
const PreprocessingSchema = z.strictObject({
  normalization: NormalizationSchema,
  statistics: z.enum(['none', 'federated-pooled', 'site', 'absent']),
  zScore: ZScoreSchema.nullable(),
  /** Twin plans, site export: the value each missing input is filled with (the site's training fill values). */
  fill: z.array(finite).nullable(),
  /** The steps in order, in words. */
  steps: z.array(z.string()),
});
/** Preprocessing (see {@link PreprocessingSchema}). */
type BundlePreprocessing = z.infer<typeof PreprocessingSchema>;

/** A site's evaluation of the version on its own held-out rows. */
export const SiteMetricsSchema = z.strictObject({
  siteId: z.string().min(1),
  n: z.int().min(0),
  metrics: z.record(z.string(), finite),
  createdAt: z.string().nullable(),
});
/** A site's evaluation (see {@link SiteMetricsSchema}). */
export type SiteMetrics = z.infer<typeof SiteMetricsSchema>;

/** The part of a manifest that follows from the signed metadata and the plan (re-derived when verifying). */
const BundleDescriptionSchema = z.strictObject({
  federation: z.strictObject({ id: z.string(), planName: z.string() }),
  version: z.strictObject({
    id: z.string(),
    round: z.int(),
    parentVersionId: z.string().nullable(),
    strategy: z.string(),
    createdAt: z.string(),
  }),
  model: z.strictObject({
    spec: ModelSpecSchema,
    inputs: z.int().min(1),
    layers: z.array(
      z.strictObject({
        name: z.string(),
        units: z.int(),
        activation: z.enum(['relu', 'tanh', 'sigmoid', 'linear']),
        kernelShape: z.array(z.int()),
        biasShape: z.array(z.int()),
      }),
    ),
    layout: LayoutSchema,
    output: z.string(),
  }),
  features: z.array(BundleFeatureSchema),
  label: z.strictObject({ name: z.string(), rule: LabelDerivationSchema.nullable(), positive: z.string() }),
  tiers: z.strictObject({
    thresholds: z.array(z.number()),
    names: z.array(z.string()),
    source: z.enum(['plan', 'default']),
    rule: z.string(),
  }),
  /**
   * `contributors` when the signed metadata lists them (coordinator exports; sites of a plan that shares them),
   * `contributorCount` when it is the count-only form a site was given.
   */
  lineage: z.strictObject({
    round: z.int(),
    parentVersionId: z.string().nullable(),
    contributors: z.array(z.strictObject({ siteId: z.string(), numExamples: z.int().optional() })).optional(),
    contributorCount: z.int().min(0).optional(),
  }),
  privacy: z.strictObject({
    dpEpsilon: z.number().nullable(),
    dpDelta: z.number().nullable(),
    secureAggregation: z.boolean(),
  }),
  metrics: z.record(z.string(), z.number()),
});
/** See {@link BundleDescriptionSchema}. */
type BundleDescription = z.infer<typeof BundleDescriptionSchema>;

/** A file of the bundle with its digest. */
const FileRefSchema = z.strictObject({ path: z.string().min(1), sha256: sha, bytes: z.int().min(0) });

/** The whole manifest. */
export const BundleManifestSchema = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  formatVersion: z.literal(BUNDLE_FORMAT_VERSION),
  exported: z.strictObject({ by: z.enum(['coordinator', 'site']), siteId: z.string().nullable(), at: z.string() }),
  description: BundleDescriptionSchema,
  preprocessing: PreprocessingSchema,
  /** Per-site evaluations (coordinator export: every site's report; site export: none — a site sees only its own). */
  siteMetrics: z.array(SiteMetricsSchema).nullable(),
  /** Ancestor version ids, newest first, as the exporter found them (informational). */
  ancestors: z.array(z.string()),
  files: z.strictObject({
    weights: FileRefSchema,
    tfjsModel: FileRefSchema,
    tfjsShards: z.array(FileRefSchema).min(1),
  }),
  signature: z.strictObject({
    algorithm: z.literal('ed25519'),
    signs: z.literal('sha256("TWINFED-MODEL-V1\\n" + canonicalJson(meta))'),
    value: b64,
    meta: ModelVersionMetaSchema,
    coordinator: z.strictObject({ signPublicKey: b64, boxPublicKey: b64, fingerprint: z.string().min(1) }),
  }),
  plan: PlanSchema,
});
/** A bundle manifest (see {@link BundleManifestSchema}). */
export type BundleManifest = z.infer<typeof BundleManifestSchema>;

function describeFeatures(plan: Plan): BundleDescription['features'] {
  if (!plan.data.derive)
    return plan.data.features.map((name, index) => ({ index, name, role: 'column' as const, derivation: null }));
  return featureColumns(plan.data.derive).map((c, index) => ({
    index,
    name: c.name,
    role: c.role,
    derivation: c.derivation,
  }));
}

/** The description of a version under a plan: what a bundle says and what verification re-derives. */
export function describeVersion(meta: ModelVersionMeta, plan: Plan): BundleDescription {
  const layout = layoutOf(plan.model);
  const tiers = plan.data.tiers ?? DEFAULT_RISK_TIERS;
  return {
    federation: { id: meta.federationId, planName: plan.name },
    version: {
      id: meta.versionId,
      round: meta.round,
      parentVersionId: meta.parentVersionId,
      strategy: meta.strategy,
      createdAt: meta.createdAt,
    },
    model: {
      spec: plan.model,
      inputs: plan.model.inputs,
      layers: denseLayers(plan.model).map((l) => ({
        name: l.name,
        units: l.units,
        activation: l.activation,
        kernelShape: [l.inputs, l.units],
        biasShape: [l.units],
      })),
      layout: layout.map((t) => ({ name: t.name, shape: [...t.shape], dtype: t.dtype })),
      output: isCoxModel(plan.model)
        ? `log relative hazard of ${plan.data.label} (the last layer, linear); scores are the risk of the event within ${plan.model.horizonDays} days`
        : `probability that ${plan.data.label} = 1 (sigmoid of the last layer)`,
    },
    features: describeFeatures(plan),
    label: {
      name: plan.data.label,
      rule: plan.data.labelRule ?? null,
      positive: isCoxModel(plan.model)
        ? `time to ${plan.data.label} (days) and whether it was observed (1) or censored (0), ${plan.data.labelRule ? `derived from the site's twins by the label rule (${plan.data.labelRule.kind})` : "from the site's CSV mapping"}`
        : plan.data.labelRule
          ? `1 when the label rule holds (${plan.data.labelRule.kind})`
          : `1 for the values the site's CSV mapping lists as positive for ${plan.data.label}`,
    },
    tiers: {
      thresholds: [...tiers.thresholds],
      names: [...tiers.names],
      source: plan.data.tiers ? 'plan' : 'default',
      rule: 'a score s is in tier i when thresholds[i-1] <= s < thresholds[i]',
    },
    lineage: {
      round: meta.round,
      parentVersionId: meta.parentVersionId,
      ...('contributors' in meta
        ? {
            contributors: meta.contributors.map((c) => ({
              siteId: c.siteId,
              ...(c.numExamples === undefined ? {} : { numExamples: c.numExamples }),
            })),
          }
        : { contributorCount: meta.contributorCount }),
    },
    privacy: {
      dpEpsilon: meta.dpEpsilon ?? null,
      dpDelta: plan.privacy.dp?.delta ?? null,
      secureAggregation: plan.privacy.secureAggregation,
    },
    metrics: { ...meta.metrics },
  };
}

/** What an exporter knows about normalisation statistics. */
export type StatisticsInput =
  | {
      kind: 'federated-pooled' | 'site';
      mean: readonly number[];
      std: readonly number[];
      rows: number | null;
      fill?: readonly number[] | null;
    }
  | { kind: 'none'; fill?: readonly number[] | null };

/**
 * The preprocessing section for a plan and the statistics the exporter has. Only statistics the plan's policy
 * uses are written: `federated` wants pooled ones (a site's export of such a federation writes the pooled ones it
 * trained with), `per-site` wants a site's own (the coordinator has none: `absent`), `none` wants none.
 */
export function preprocessingFor(plan: Plan, stats: StatisticsInput): BundlePreprocessing {
  const policy = plan.data.normalization;
  const fill = stats.fill ? [...stats.fill] : null;
  const fillStep = fill ? ['fill each missing input with preprocessing.fill[j]'] : [];
  const z = (s: { mean: readonly number[]; std: readonly number[]; rows: number | null }): ZScore => ({
    mean: [...s.mean],
    std: [...s.std],
    epsilon: BUNDLE_STD_EPSILON,
    rows: s.rows,
  });
  const order = 'arrange the raw values in description.features order';
  const zStep = 'z-score each input j: (x[j] - zScore.mean[j]) / (zScore.std[j] + zScore.epsilon)';
  if (policy === 'none')
    return {
      normalization: policy,
      statistics: 'none',
      zScore: null,
      fill,
      steps: [order, ...fillStep, 'use the raw values as they are (the plan does not normalise)'],
    };
  if (policy === 'federated') {
    if (stats.kind === 'none') throw new RangeError('a federated-normalisation bundle needs the pooled statistics');
    return {
      normalization: policy,
      statistics: 'federated-pooled',
      zScore: z(stats),
      fill,
      steps: [order, ...fillStep, `${zStep} — the cohort's pooled statistics, the same at every site`],
    };
  }
  if (stats.kind === 'site')
    return {
      normalization: policy,
      statistics: 'site',
      zScore: z(stats),
      fill,
      steps: [
        order,
        ...fillStep,
        `${zStep} — the exporting site's own training statistics (per-site normalisation: another site's data need that site's export)`,
      ],
    };
  return {
    normalization: policy,
    statistics: 'absent',
    zScore: null,
    fill: null,
    steps: [
      order,
      "z-score each input with the statistics of the site whose data you score (per-site normalisation): this coordinator export carries none; use that site's `twinfed-site export`",
    ],
  };
}
