/**
 * Signed model versions (coordinator → sites). The coordinator signs
 * sha256("TWINFED-MODEL-V1\n" ‖ canonicalJson(meta)) with its Ed25519 key; `meta.weightsSha256` is the
 * SHA-256 of the serialised weights (`weightsDigest`), so the signature covers the weights too.
 */
import { z } from 'zod';
import { TwinfedError } from '../errors';
import { fromB64, toB64 } from '../crypto/encoding';
import { sha256, sha256Hex } from '../crypto/hash';
import { signDigest, verifyDigest } from '../crypto/signature';
import { LayoutSchema } from '../weights/layout-schema';
import type { Plan } from '../schemas/plan';
import { BASELINE_MAX_BINS } from '../cox-baseline';
import { canonicalJson } from './canonical-json';
import { IdSchema } from '../schemas/ids';
import { RecalibrationParamsSchema } from '../schemas/recalibration';
import { Sha256HexSchema, metricsSchema } from './schema-helpers';

/** Most metrics a model version may carry. */
const MAX_MODEL_METRICS = 256;

/** One contributing site of a model version and the examples it trained on (not published in DP federations: ε does not cover it). */
const ContributorSchema = z.strictObject({
  siteId: IdSchema,
  numExamples: z.int().min(0).optional(),
});
/** A contributor of a model version (see {@link ContributorSchema}). */
export type Contributor = z.infer<typeof ContributorSchema>;

/** Most contributors a model version may list. */
const MAX_MODEL_CONTRIBUTORS = 100_000;

/**
 * A Cox model's federated Breslow baseline (cox-baseline.ts): the cumulative baseline hazard H₀ on the plan's public
 * grid, from the secure sum of the cohort's event counts and risk-set sums with the risk scores of `etaVersionId` (the
 * federation's final round version, whose weights this version carries). What turns a Cox risk score into the risk
 * at the horizon: 1 − exp(−H₀(horizon) · e^η).
 */
export const CoxBaselineSchema = z.strictObject({
  etaVersionId: IdSchema,
  times: z.array(z.number().positive()).min(1).max(BASELINE_MAX_BINS),
  cumulativeHazard: z.array(z.number().min(0)).min(1).max(BASELINE_MAX_BINS),
  /** How many sites' vectors are in the sum, and how many events. */
  sites: z.int().min(1),
  events: z.int().min(0),
});
/** A signed federated baseline (see {@link CoxBaselineSchema}). */
export type CoxBaseline = z.infer<typeof CoxBaselineSchema>;

/** The fields every model version's metadata has, whoever reads it. */
const metaFields = {
  protocol: z.int().min(1),
  federationId: IdSchema,
  versionId: IdSchema,
  parentVersionId: IdSchema.nullable(),
  round: z.int().min(0),
  strategy: z.string().min(1).max(64),
  layout: LayoutSchema,
  weightsSha256: Sha256HexSchema,
  metrics: metricsSchema(MAX_MODEL_METRICS),
  dpEpsilon: z.number().min(0).optional(),
  /** How the DP noise behind `dpEpsilon` was added: `gaussian` (central DP) or `skellam` (distributed DP). Absent on versions signed before it existed. */
  dpMechanism: z.enum(['gaussian', 'skellam']).optional(),
  /**
   * {@link planDigest} of the federation's plan (features, label, tiers, normalisation policy, model), so an exported
   * bundle's plan verifies offline. Absent on versions signed before it existed.
   */
  planSha256: Sha256HexSchema.optional(),
  /**
   * A recalibrated version (plan option `recalibration`): the same weights as `baseVersionId`, scored σ(a·z + b) of the
   * log-odds z with these parameters, fitted on the cohort's held-out scores through the secure sum.
   */
  recalibration: RecalibrationParamsSchema.optional(),
  /** A Cox federation's baseline version only: the federated Breslow baseline (absent on every other version). */
  coxBaseline: CoxBaselineSchema.optional(),
  createdAt: z.iso.datetime(),
};

/**
 * The full metadata of a version, as the coordinator stores, publishes and shows operators and researchers:
 * `contributors` lists every contributing site and its example count.
 */
export const FullModelVersionMetaSchema = z.strictObject({
  ...metaFields,
  contributors: z.array(ContributorSchema).max(MAX_MODEL_CONTRIBUTORS),
});

/**
 * The count-only metadata sites receive (unless the plan sets `privacy.shareContributorsWithSites`): the same fields,
 * with `contributorCount` instead of the per-site list, signed by the coordinator with the same key.
 */
export const SiteModelVersionMetaSchema = z.strictObject({
  ...metaFields,
  contributorCount: z.int().min(0).max(MAX_MODEL_CONTRIBUTORS),
});

/**
 * Metadata of an immutable model version (strict): the full form (`contributors`) or the count-only form sites get
 * (`contributorCount`); each verifies on its own signature. `round` is 0 for the initial version; `dpEpsilon` is the
 * differential-privacy ε spent so far, when DP is on.
 */
export const ModelVersionMetaSchema = z.union([FullModelVersionMetaSchema, SiteModelVersionMetaSchema]);

/** A validated model version's metadata (either form). */
export type ModelVersionMeta = z.infer<typeof ModelVersionMetaSchema>;
/** The count-only form (see {@link SiteModelVersionMetaSchema}). */
type SiteModelVersionMeta = z.infer<typeof SiteModelVersionMetaSchema>;

/** How many sites contributed to a version, from either form of its metadata. */
export function contributorCountOf(meta: ModelVersionMeta): number {
  return 'contributors' in meta ? meta.contributors.length : meta.contributorCount;
}

/** The count-only form of `meta` (what a site is shown): the per-site list replaced by its length. */
export function countOnlyMeta(meta: ModelVersionMeta): SiteModelVersionMeta {
  if (!('contributors' in meta)) return meta;
  const { contributors, ...rest } = meta;
  return { ...rest, contributorCount: contributors.length };
}

/**
 * SHA-256 (hex) of a plan as the coordinator signs it into model versions: `sha256("TWINFED-PLAN-V1\n" ‖
 * canonicalJson(plan))` of the validated plan (defaults filled, so a plan parsed twice hashes the same).
 */
export function planDigest(plan: Plan): string {
  return sha256Hex('TWINFED-PLAN-V1\n' + canonicalJson(plan));
}

function modelDigest(meta: ModelVersionMeta): Uint8Array {
  return sha256('TWINFED-MODEL-V1\n' + canonicalJson(meta));
}

/**
 * Signs model-version metadata; returns the base64 Ed25519 signature.
 * Throws `VALIDATION_FAILED` when `meta` does not match {@link ModelVersionMetaSchema}.
 */
export function signModelVersion(meta: ModelVersionMeta, coordinatorSignSecretKey: Uint8Array): string {
  const parsed = ModelVersionMetaSchema.safeParse(meta);
  if (!parsed.success) throw new TwinfedError('VALIDATION_FAILED', 'The model version metadata is invalid.');
  return toB64(signDigest(modelDigest(parsed.data), coordinatorSignSecretKey));
}

/**
 * Verifies a model version against the pinned coordinator key and returns its validated metadata.
 * Throws `MODEL_SIGNATURE_INVALID` when the metadata is malformed or the signature does not verify, and
 * `MODEL_DIGEST_MISMATCH` when `weightsBytes` (the serialised weights) do not hash to `meta.weightsSha256`.
 * Deserialise the weights afterwards with `expectedLayout: meta.layout`.
 */
export function verifyModelVersion(opts: {
  meta: unknown;
  signature: string;
  weightsBytes?: Uint8Array;
  coordinatorSignPublicKey: Uint8Array;
}): ModelVersionMeta {
  const parsed = ModelVersionMetaSchema.safeParse(opts.meta);
  if (!parsed.success) throw new TwinfedError('MODEL_SIGNATURE_INVALID');
  const ok = verifyDigest({
    digest: modelDigest(parsed.data),
    signature: fromB64(opts.signature, 'MODEL_SIGNATURE_INVALID'),
    publicKey: opts.coordinatorSignPublicKey,
  });
  if (!ok) throw new TwinfedError('MODEL_SIGNATURE_INVALID');
  if (opts.weightsBytes !== undefined && sha256Hex(opts.weightsBytes) !== parsed.data.weightsSha256) {
    throw new TwinfedError('MODEL_DIGEST_MISMATCH');
  }
  return parsed.data;
}
