import {
  PROTOCOL_VERSION,
  planDigest,
  serializeWeights,
  sha256Hex,
  signModelVersion,
  type Contributor,
  type CoxBaseline,
  type Identity,
  type Plan,
  type RecalibrationParams,
  type ModelVersionMeta,
  type WeightSet,
} from '@twinfed/shared';
import type { ModelVersion } from '../store';

/** What a new model version is made of. */
interface VersionInput {
  federationId: string;
  parentVersionId: string | null;
  round: number;
  strategy: string;
  weights: WeightSet;
  contributors: Contributor[];
  metrics: Record<string, number>;
  /** The differential-privacy ε spent by the federation up to and including this version (DP federations only). */
  dpEpsilon?: number;
  /** How that DP noise was added (`gaussian` central, `skellam` distributed). */
  dpMechanism?: 'gaussian' | 'skellam';
  createdAt: string;
  /** The federation's plan; its {@link planDigest} is signed into the metadata. */
  plan?: Plan;
  /** A recalibrated version: its signed parameters and its id (the base version's id + `.recalibrated`). */
  recalibration?: RecalibrationParams;
  /**
   * A Cox federation's federated baseline: the version is then the baseline version of the round's version (the same
   * weights, id `<fid>.v<round>.baseline`, parent the round's version).
   */
  coxBaseline?: CoxBaseline;
}

/** A signed, ready-to-store model version and its serialised weights. */
export interface BuiltVersion {
  version: ModelVersion;
  weights: Uint8Array;
}

/** Version ids are derived from the federation and round, so a re-publication after a crash is recognised. */
function versionIdFor(federationId: string, round: number): string {
  return `${federationId}.v${round}`;
}

/**
 * Builds an immutable, signed model version: the metadata (lineage, contributors, weights digest) is signed
 * by the coordinator's Ed25519 key; sites verify it against the key they pinned at enrollment.
 */
export function buildVersion(input: VersionInput, identity: Identity): BuiltVersion {
  const weights = serializeWeights(input.weights);
  const versionId = input.recalibration
    ? `${input.recalibration.baseVersionId}.recalibrated`
    : input.coxBaseline
      ? `${versionIdFor(input.federationId, input.round)}.baseline`
      : versionIdFor(input.federationId, input.round);
  const meta: ModelVersionMeta = {
    protocol: PROTOCOL_VERSION,
    federationId: input.federationId,
    versionId,
    parentVersionId: input.parentVersionId,
    round: input.round,
    strategy: input.strategy,
    layout: input.weights.layout.map((t) => ({ name: t.name, shape: [...t.shape], dtype: t.dtype })),
    weightsSha256: sha256Hex(weights),
    contributors: input.contributors,
    metrics: input.metrics,
    ...(input.dpEpsilon === undefined ? {} : { dpEpsilon: input.dpEpsilon }),
    ...(input.dpMechanism === undefined ? {} : { dpMechanism: input.dpMechanism }),
    ...(input.plan === undefined ? {} : { planSha256: planDigest(input.plan) }),
    ...(input.recalibration === undefined ? {} : { recalibration: input.recalibration }),
    ...(input.coxBaseline === undefined ? {} : { coxBaseline: input.coxBaseline }),
    createdAt: input.createdAt,
  };
  const signature = signModelVersion(meta, identity.sign.secretKey);
  return {
    version: {
      id: versionId,
      federationId: input.federationId,
      parentVersionId: input.parentVersionId,
      round: input.round,
      meta,
      signature,
      weightsSha256: meta.weightsSha256,
      createdAt: input.createdAt,
    },
    weights,
  };
}
