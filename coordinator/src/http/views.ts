import { fingerprint, type EvaluationView, type SiteView } from '@twinfed/shared';
import type { Evaluation, ModelVersion, Site } from '../store';

/** A site as operators and researchers see it (public keys only as a fingerprint). */
export function siteView(s: Site): SiteView {
  return {
    id: s.id,
    name: s.name,
    fingerprint: fingerprint({ signPublicKey: s.signPublicKey, boxPublicKey: s.boxPublicKey }),
    enrolledAt: s.enrolledAt,
    revokedAt: s.revokedAt,
    lastSeenAt: s.lastSeenAt,
    missedRounds: s.missedRounds,
  };
}

/** A model version as served: lineage, signed metadata and the coordinator's signature. */
export function versionView(v: ModelVersion) {
  return {
    id: v.id,
    federationId: v.federationId,
    parentVersionId: v.parentVersionId,
    round: v.round,
    weightsSha256: v.weightsSha256,
    signature: v.signature,
    createdAt: v.createdAt,
    meta: v.meta,
  };
}

/** A site's evaluation of a version as served (metrics are finite numbers: the report schema admits nothing else). */
export function evaluationView(e: Evaluation): EvaluationView {
  return { versionId: e.versionId, siteId: e.siteId, n: e.n, metrics: e.metrics as Record<string, number>, createdAt: e.createdAt };
}
