/**
 * Offline verification of a model bundle. The coordinator's signature covers the version metadata, which binds
 * the weights (sha256), the layout, lineage, metrics, DP ε and — on versions that carry `planSha256` — the plan.
 * Everything else the manifest says about the model (features, label, tiers, layers) is re-derived from the
 * signed metadata and the plan and must match; the tfjs files must be the signed weights re-encoded. Only the
 * normalisation statistics and per-site metrics are not covered by the coordinator's signature (see docs).
 */
import { TwinfedError } from '../errors';
import { sha256Hex } from '../crypto/hash';
import { fromB64 } from '../crypto/encoding';
import { fingerprint } from '../crypto/identity';
import { canonicalJson } from '../envelope/canonical-json';
import { planDigest, verifyModelVersion, type ModelVersionMeta } from '../envelope/model-version';
import { layoutOf } from '../model-spec';
import type { Plan } from '../schemas/plan';
import { deserializeWeights } from '../weights/serialize';
import { sameLayout, type WeightSet } from '../weights/types';
import type { RawBundle } from './files';
import { LAYERS_SHARD_FILE, layersModelJson, layersShard } from './layers-model';
import { BUNDLE_FILES, BundleManifestSchema, describeVersion, type BundleManifest } from './manifest';

/** Which coordinator key the bundle is verified against. */
export interface BundleTrust {
  /** The coordinator's Ed25519 key pinned at enrollment: the bundle must be signed by it. */
  pinnedSignPublicKey?: Uint8Array;
  /** The coordinator fingerprint the user expects (`xxxx-xxxx-…`): the bundle's key must have it. */
  fingerprint?: string;
}

/** A bundle that verified. */
export interface VerifiedBundle {
  manifest: BundleManifest;
  meta: ModelVersionMeta;
  plan: Plan;
  weights: WeightSet;
  /** What the signature was checked against: the pinned key, a fingerprint the user gave, or only the key inside the bundle. */
  trust: 'pinned' | 'fingerprint' | 'bundle-key';
  /** Caveats a user should see (e.g. verified against the bundle's own key only). */
  warnings: string[];
}

function same(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.byteLength === b.byteLength &&
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
  );
}

function checkFile(raw: RawBundle, f: { path: string; sha256: string; bytes: number }): Uint8Array {
  const bytes = raw.read(f.path);
  if (sha256Hex(bytes) !== f.sha256 || bytes.byteLength !== f.bytes)
    throw new TwinfedError(
      'MODEL_DIGEST_MISMATCH',
      `The bundle file ${f.path} does not match the digest its manifest lists.`,
    );
  return bytes;
}

/**
 * Verifies a bundle and returns its weights and plan. Refusals, each with a stable code:
 * `BUNDLE_INVALID` (malformed manifest, or a manifest field that disagrees with what the signed metadata and plan
 * imply), `MODEL_SIGNATURE_INVALID` (signature, key, fingerprint or signed plan digest), `MODEL_DIGEST_MISMATCH`
 * (weights or tfjs files changed), `INVALID_WEIGHTS` (weights that do not fit the model).
 */
export function verifyBundle(raw: RawBundle, trust: BundleTrust = {}): VerifiedBundle {
  const parsed = BundleManifestSchema.safeParse(raw.manifest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TwinfedError(
      'BUNDLE_INVALID',
      `The bundle manifest is malformed: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}.`,
    );
  }
  const manifest = parsed.data;
  const sig = manifest.signature;
  const warnings: string[] = [];
  const signKey = fromB64(sig.coordinator.signPublicKey, 'MODEL_SIGNATURE_INVALID');
  let kind: VerifiedBundle['trust'] = 'bundle-key';
  let actual: string;
  try {
    actual = fingerprint({ signPublicKey: sig.coordinator.signPublicKey, boxPublicKey: sig.coordinator.boxPublicKey });
  } catch {
    throw new TwinfedError('MODEL_SIGNATURE_INVALID', 'The coordinator key in the bundle is malformed.');
  }
  if (actual !== sig.coordinator.fingerprint)
    throw new TwinfedError(
      'MODEL_SIGNATURE_INVALID',
      `The coordinator keys in the bundle have fingerprint ${actual}, not the ${sig.coordinator.fingerprint} the manifest states.`,
    );
  if (trust.pinnedSignPublicKey) {
    if (!bytesEqual(trust.pinnedSignPublicKey, signKey))
      throw new TwinfedError(
        'MODEL_SIGNATURE_INVALID',
        `The bundle is signed by coordinator ${actual}, not by the coordinator this site is enrolled with.`,
      );
    kind = 'pinned';
  } else if (trust.fingerprint !== undefined) {
    if (trust.fingerprint.trim().toLowerCase() !== actual)
      throw new TwinfedError(
        'MODEL_SIGNATURE_INVALID',
        `The bundle is signed by coordinator ${actual}, not ${trust.fingerprint}.`,
      );
    kind = 'fingerprint';
  } else {
    warnings.push(
      `The signature was checked against the coordinator key inside the bundle (fingerprint ${actual}) only: this proves the bundle is intact, not who made it. Compare the fingerprint with your coordinator's, or pass --fingerprint.`,
    );
  }

  const weightsBytes = checkFile(raw, manifest.files.weights);
  const meta = verifyModelVersion({
    meta: sig.meta,
    signature: sig.value,
    weightsBytes,
    coordinatorSignPublicKey: signKey,
  });
  if (manifest.files.weights.sha256 !== meta.weightsSha256)
    throw new TwinfedError('MODEL_DIGEST_MISMATCH', 'The weights file is not the one the coordinator signed.');
  const plan = manifest.plan;
  if (meta.planSha256 !== undefined) {
    if (planDigest(plan) !== meta.planSha256)
      throw new TwinfedError(
        'MODEL_SIGNATURE_INVALID',
        'The plan in the bundle is not the plan the coordinator signed into this version.',
      );
  } else {
    warnings.push(
      'This version predates signed plan digests: the features, label and tiers in the bundle are not covered by the coordinator signature.',
    );
  }
  const layout = layoutOf(plan.model);
  if (!sameLayout(meta.layout, layout))
    throw new TwinfedError('BUNDLE_INVALID', "The signed layout does not fit the bundle plan's model.");
  const weights = deserializeWeights(weightsBytes, { expectedLayout: layout });
  if (!same(manifest.description, describeVersion(meta, plan)))
    throw new TwinfedError(
      'BUNDLE_INVALID',
      'The manifest description (features, label, tiers, model or lineage) disagrees with the signed metadata and plan.',
    );

  const modelJson = checkFile(raw, manifest.files.tfjsModel);
  let topology: unknown;
  try {
    topology = JSON.parse(new TextDecoder().decode(modelJson));
  } catch {
    throw new TwinfedError('BUNDLE_INVALID', `${BUNDLE_FILES.tfjsModel} is not valid JSON.`);
  }
  if (!same(topology, layersModelJson(plan.model)))
    throw new TwinfedError('BUNDLE_INVALID', `${BUNDLE_FILES.tfjsModel} is not the model the plan describes.`);
  if (
    manifest.files.tfjsShards.length !== 1 ||
    manifest.files.tfjsShards[0]!.path !== `${BUNDLE_FILES.tfjsDir}/${LAYERS_SHARD_FILE}`
  )
    throw new TwinfedError('BUNDLE_INVALID', 'The manifest lists unexpected tfjs weight shards.');
  const shard = checkFile(raw, manifest.files.tfjsShards[0]!);
  if (!bytesEqual(shard, layersShard(weights)))
    throw new TwinfedError('MODEL_DIGEST_MISMATCH', 'The tfjs weight shard is not the signed weights.');

  checkPreprocessing(manifest, plan);
  return { manifest, meta, plan, weights, trust: kind, warnings };
}

function checkPreprocessing(manifest: BundleManifest, plan: Plan): void {
  const pre = manifest.preprocessing;
  const d = plan.model.inputs;
  const policy = plan.data.normalization;
  if (pre.normalization !== policy)
    throw new TwinfedError(
      'BUNDLE_INVALID',
      `The manifest says normalisation ${pre.normalization}; the signed plan says ${policy}.`,
    );
  const want = {
    none: ['none'],
    federated: ['federated-pooled'],
    'per-site': manifest.exported.by === 'site' ? ['site'] : ['absent'],
  }[policy];
  if (!want.includes(pre.statistics))
    throw new TwinfedError(
      'BUNDLE_INVALID',
      `A ${manifest.exported.by} export of a ${policy} plan cannot carry "${pre.statistics}" statistics.`,
    );
  const needsZ = pre.statistics === 'federated-pooled' || pre.statistics === 'site';
  if (needsZ !== (pre.zScore !== null))
    throw new TwinfedError('BUNDLE_INVALID', 'The manifest’s z-score statistics do not match its normalisation.');
  if (pre.zScore && (pre.zScore.mean.length !== d || pre.zScore.std.length !== d))
    throw new TwinfedError(
      'BUNDLE_INVALID',
      `The z-score statistics have ${pre.zScore.mean.length} means and ${pre.zScore.std.length} stds; the model takes ${d} inputs.`,
    );
  if (pre.fill && pre.fill.length !== d)
    throw new TwinfedError(
      'BUNDLE_INVALID',
      `The manifest has ${pre.fill.length} fill values; the model takes ${d} inputs.`,
    );
}
