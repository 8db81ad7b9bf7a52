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
import { canonicalJson } from './canonical-json';
import { IdSchema, Sha256HexSchema, SiteIdSchema, metricsSchema } from './schema-helpers';

/** Most metrics a model version may carry. */
export const MAX_MODEL_METRICS = 256;

/** One contributing site of a model version and the examples it trained on. */
export const ContributorSchema = z.strictObject({
  siteId: SiteIdSchema,
  numExamples: z.int().min(0),
});

/**
 * Metadata of an immutable model version (strict). `round` is 0 for the initial version;
 * `dpEpsilon` is the differential-privacy ε spent so far, when DP is on.
 */
export const ModelVersionMetaSchema = z.strictObject({
  protocol: z.int().min(1),
  federationId: IdSchema,
  versionId: IdSchema,
  parentVersionId: IdSchema.nullable(),
  round: z.int().min(0),
  strategy: z.string().min(1).max(64),
  layout: LayoutSchema,
  weightsSha256: Sha256HexSchema,
  contributors: z.array(ContributorSchema).max(100_000),
  metrics: metricsSchema(MAX_MODEL_METRICS),
  dpEpsilon: z.number().min(0).optional(),
  /**
   * {@link planDigest} of the federation's plan (features, label, tiers, normalisation policy, model), so an exported
   * bundle's plan verifies offline. Absent on versions signed before it existed.
   */
  planSha256: Sha256HexSchema.optional(),
  createdAt: z.iso.datetime(),
});

/** A validated model version's metadata. */
export type ModelVersionMeta = z.infer<typeof ModelVersionMetaSchema>;

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
