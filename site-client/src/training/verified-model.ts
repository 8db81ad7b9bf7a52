import {
  TwinfedError,
  behaviourOf,
  decodeSignedDownload,
  deserializeWeights,
  sameLayout,
  sha256Hex,
  verifyModelVersion,
  type Layout,
  type ModelVersionMeta,
  type SignedDownload,
  type WeightSet,
} from '@twinfed/shared';
import type { SignedModelVersion, SiteApi } from '../transport/coordinator-client';

/** A model version whose signature and digest verified against the pinned coordinator key. */
export interface VerifiedModel {
  readonly meta: ModelVersionMeta;
  readonly weights: WeightSet;
  /** The coordinator's signature over `meta`, as served (kept so the version can be stored and re-verified). */
  readonly signature: string;
  /** The serialised weights whose sha256 is `meta.weightsSha256`. */
  readonly bytes: Uint8Array;
}

/** What a version must be to be used: {@link fetchVerifiedModel} and {@link verifyDownloadedModel}. */
interface ExpectedVersion {
  versionId: string;
  federationId: string;
  /** The coordinator's Ed25519 key pinned at enrollment (never a key the coordinator sends now). */
  coordinatorSignPublicKey: Uint8Array;
  /** The layout the federation's plan implies. */
  expectedLayout: Layout;
  /** `planDigest` of the signed plan the site trains with: the version's signed `planSha256` must be it. */
  planSha256: string;
}

/** Options of {@link fetchVerifiedModel}. */
interface FetchVerifiedModelOptions extends ExpectedVersion {
  api: SiteApi;
  signal?: AbortSignal;
}

/**
 * Downloads a model version and refuses it unless it is exactly what the coordinator signed:
 * the metadata's signature verifies under the pinned key (`MODEL_SIGNATURE_INVALID`), it names the requested
 * version of this federation and carries the digest of the plan the site trains with (`MODEL_SIGNATURE_INVALID`), the weights hash to the signed digest
 * (`MODEL_DIGEST_MISMATCH`) and decode to the plan's layout (`INVALID_WEIGHTS`).
 * One request when the API serves signed downloads (metadata and weights together, `GET /v1/models/:id/download`), else two, the
 * signature then checked before the weights are downloaded. Either way nothing of the weights is used unverified.
 */
export async function fetchVerifiedModel(options: FetchVerifiedModelOptions): Promise<VerifiedModel> {
  const { api, versionId } = options;
  const signal = options.signal ? { signal: options.signal } : {};
  if (api.modelDownload) return verifiedDownload(await api.modelDownload(versionId, signal), options);
  const signed = await api.model(versionId, signal);
  const meta = verifiedMeta(signed, options);
  const download = await api.modelWeights(versionId, signal);
  if (download.etag !== undefined && download.etag !== meta.weightsSha256) {
    throw new TwinfedError(
      'MODEL_DIGEST_MISMATCH',
      `The weights of ${versionId} were served with a digest that is not the signed one.`,
    );
  }
  return withWeights(meta, signed.signature, download.bytes, options);
}

/**
 * A version's signed download already in hand (the one `GET …/rounds/current/download` carries), checked exactly as
 * one fetched from `GET /v1/models/:id/download`: its framing (`MODEL_SIGNATURE_INVALID`), then everything
 * {@link fetchVerifiedModel} checks.
 */
export function verifyDownloadedModel(bytes: Uint8Array, expected: ExpectedVersion): VerifiedModel {
  return verifiedDownload(decodeSignedDownload(bytes), expected);
}

/** A decoded signed download, once its metadata and then its weights verified. */
function verifiedDownload(download: SignedDownload, expected: ExpectedVersion): VerifiedModel {
  return withWeights(verifiedMeta(download, expected), download.signature, download.weights, expected);
}

/** The served metadata once its signature verified under the pinned key, and it is for this version, federation and plan. */
function verifiedMeta(signed: SignedModelVersion, options: ExpectedVersion): ModelVersionMeta {
  const { versionId, federationId, coordinatorSignPublicKey } = options;
  const meta = verifyModelVersion({ meta: signed.meta, signature: signed.signature, coordinatorSignPublicKey });
  if (meta.versionId !== versionId || meta.federationId !== federationId) {
    throw new TwinfedError(
      'MODEL_SIGNATURE_INVALID',
      `The signed metadata is for ${meta.federationId}/${meta.versionId}, not ${federationId}/${versionId}.`,
    );
  }
  if (meta.planSha256 !== options.planSha256) {
    const signedWith =
      meta.planSha256 === undefined
        ? 'no plan digest (it predates signed plans)'
        : `plan digest ${meta.planSha256.slice(0, 12)}…`;
    throw new TwinfedError(
      'MODEL_SIGNATURE_INVALID',
      `Version ${versionId} is signed with ${signedWith}, not the plan this site trains with (${options.planSha256.slice(0, 12)}…).`,
    );
  }
  if (!sameLayout(meta.layout, options.expectedLayout)) {
    throw new TwinfedError(
      'INVALID_WEIGHTS',
      `Version ${versionId} has a layout that does not match the federation's model.`,
    );
  }
  return meta;
}

/** The verified version with its weights, once the bytes hash to the signed digest and decode to the plan's layout. */
function withWeights(
  meta: ModelVersionMeta,
  signature: string,
  bytes: Uint8Array,
  options: ExpectedVersion,
): VerifiedModel {
  // The signature verified before covers the digest: the bytes need only hash to it (one verification per download).
  if (sha256Hex(bytes) !== meta.weightsSha256) throw new TwinfedError('MODEL_DIGEST_MISMATCH');
  const weights = deserializeWeights(bytes, { expectedLayout: options.expectedLayout });
  return { meta, weights, signature, bytes };
}

/** True for the errors that mean "this model version must not be used" (`reject-version` in the error table). */
export function isModelRejection(e: unknown): e is TwinfedError {
  return e instanceof TwinfedError && behaviourOf(e) === 'reject-version';
}
