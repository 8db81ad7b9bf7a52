import {
  TwinfedError,
  countOnlyMeta,
  fingerprint,
  signModelVersion,
  verifyModelVersion,
  decisionOnPlan,
  type Calibration,
  type EvaluationView,
  type Identity,
  type SiteDecisionView,
  type SiteView,
} from '@twinfed/shared';
import type { Evaluation, ModelVersion, Site, SiteDecisionRecord } from '../store';

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

/**
 * A site's decision on a federation's current plan (digest `planSha256`): `pending` when its last decision is about
 * another version of the plan or it has none; the hash and time are those of its last decision.
 */
export function siteDecisionView(o: {
  federationId: string;
  planSha256: string;
  site: Pick<Site, 'id' | 'name'>;
  last: SiteDecisionRecord | null;
}): SiteDecisionView {
  return {
    federationId: o.federationId,
    siteId: o.site.id,
    siteName: o.site.name,
    decision: decisionOnPlan(o.last, o.planSha256),
    planSha256: o.last?.planSha256 ?? null,
    decidedAt: o.last?.decidedAt ?? null,
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

/**
 * A model version as a site sees it when the plan does not share contributors: the count-only metadata
 * (`countOnlyMeta`), signed now with the coordinator's key. The stored full metadata must still verify under that
 * key first, so a database edit (another weights digest, say) is never re-signed for sites: it is refused with
 * `INTERNAL` instead, and operators see the broken signature.
 */
function siteVersionView(v: ModelVersion, identity: Identity) {
  let full;
  try {
    full = verifyModelVersion({
      meta: v.meta,
      signature: v.signature,
      coordinatorSignPublicKey: identity.sign.publicKey,
    });
  } catch {
    throw new TwinfedError('INTERNAL', `The stored metadata of ${v.id} does not verify under this coordinator's key.`);
  }
  const meta = countOnlyMeta(full);
  return { ...versionView(v), signature: signModelVersion(meta, identity.sign.secretKey), meta };
}

/**
 * {@link siteVersionView} computed once per stored version (a verify and a signature each, at every site's download
 * of every version otherwise). A version never changes once published; the cache key includes the stored signature
 * and weights digest, so a row that differs from the one checked is checked again. Bounded: the oldest entry goes.
 */
export class SiteVersionViews {
  private readonly views = new Map<string, ReturnType<typeof siteVersionView>>();

  constructor(
    private readonly identity: Identity,
    private readonly max = 256,
  ) {}

  of(v: ModelVersion): ReturnType<typeof siteVersionView> {
    const key = `${v.id}\n${v.weightsSha256}\n${v.signature}`;
    let view = this.views.get(key);
    if (!view) {
      view = siteVersionView(v, this.identity);
      if (this.views.size >= this.max) this.views.delete(this.views.keys().next().value!);
      this.views.set(key, view);
    }
    return view;
  }
}

/** A site's evaluation of a version as served (metrics are finite numbers: the report schema admits nothing else). */
export function evaluationView(e: Evaluation): EvaluationView {
  return {
    versionId: e.versionId,
    siteId: e.siteId,
    n: e.n,
    metrics: e.metrics as Record<string, number>,
    ...(e.calibration ? { calibration: e.calibration as unknown as Calibration } : {}),
    createdAt: e.createdAt,
  };
}
