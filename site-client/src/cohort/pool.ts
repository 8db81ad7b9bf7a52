/**
 * The site's step of a cohort query's secure pool (`summaries.pooled: "secure"`): once the coordinator has fixed the
 * pool's cohort (every site answered or refused), a member masks the [n, Σx, Σx²] per cell and feature it kept in its
 * cohort outbox when it answered — with pairwise masks agreed (X25519) with every other member, whose keys it takes only
 * from the coordinator-signed directory — records the masked bytes, sends them, and records the acknowledgement in its
 * audit chain (`cohort.pooled`). The values never leave the site unmasked. A retry re-sends the recorded bytes, never a
 * new masking (two vectors under the same masks would give away their difference), and refuses a cohort other than the
 * one it masked for. No dropout recovery: the pool completes only when every member has sent its vector.
 */
import {
  COHORT_POOL_MIN_SITES,
  TwinfedError,
  cohortPoolContext,
  maskContribution,
  sha256Hex,
  toB64,
  type CohortPoolAck,
  type CohortPoolContribution,
  type CohortPoolView,
} from '@twinfed/shared';
import type { SiteAuditLog } from '../audit/site-audit';
import type { Enrollment } from '../identity/load';
import { trustedPeers } from '../training/peer-directory';
import type { CohortOutbox } from './outbox';

/** The two coordinator calls of the pool (implemented by `CoordinatorClient`). */
export interface CohortPoolApi {
  cohortPool(queryId: string): Promise<CohortPoolView>;
  contributeCohortPool(queryId: string, contribution: CohortPoolContribution): Promise<CohortPoolAck>;
}

/** Where this site stands in a query's pool after {@link sendCohortPool}. */
export type CohortPoolStep =
  | { state: 'not-secure' | 'no-vector' | 'waiting' | 'not-member' }
  | { state: 'failed'; code: string }
  | { state: 'sent'; status: 'accepted' | 'duplicate'; contributed: number; cohort: number; complete: boolean }
  | { state: 'complete' | 'contributed'; contributed: number; cohort: number };

/** The peers' pins, read but never written here (the training journal belongs to the running site). */
export interface PinnedPeers {
  peer(siteId: string): { signPublicKey: string; boxPublicKey: string; pinnedAt: string } | undefined;
}

/**
 * Masks and sends this site's pool vector for `queryId` when its pool is open and this site is a member that has not
 * contributed (see the module comment). Throws COHORT_TOO_SMALL for a cohort under {@link COHORT_POOL_MIN_SITES} sites
 * (whatever the coordinator says), SECAGG_UNTRUSTED_KEY for keys not signed by the pinned coordinator key or differing
 * from pinned ones, SECAGG_INCONSISTENT when the cohort differs from the one this site masked for,
 * COHORT_POOL_BAD_LENGTH when the coordinator expects another length, SECURE_SUM_OVERFLOW for values too large.
 */
export async function sendCohortPool(args: {
  outbox: CohortOutbox;
  api: CohortPoolApi;
  audit: SiteAuditLog;
  enrollment: Enrollment;
  pins: PinnedPeers;
  queryId: string;
  now: () => string;
}): Promise<CohortPoolStep> {
  const { outbox, api, enrollment, queryId } = args;
  const me = enrollment.state.siteId;
  const entry = outbox.get(queryId);
  if (!entry?.pool) return { state: entry ? 'not-secure' : 'no-vector' };
  const view = await api.cohortPool(queryId);
  if (view.state === 'waiting') return { state: 'waiting' };
  if (view.state === 'failed') return { state: 'failed', code: view.code ?? 'COHORT_TOO_SMALL' };
  const ids = view.cohort.map((m) => m.siteId);
  const counts = { contributed: view.contributed.length, cohort: ids.length };
  if (!ids.includes(me)) return { state: 'not-member' };
  if (view.state === 'complete' && entry.pool.sentAt !== null) return { state: 'complete', ...counts };
  if (view.contributed.includes(me) && entry.pool.sentAt !== null) return { state: 'contributed', ...counts };
  if (ids.length < COHORT_POOL_MIN_SITES)
    throw new TwinfedError(
      'COHORT_TOO_SMALL',
      `The coordinator lists a cohort of ${ids.length} site(s) for ${queryId}: this site masks only for ${COHORT_POOL_MIN_SITES} or more.`,
    );
  if (view.length !== entry.pool.values.length)
    throw new TwinfedError(
      'COHORT_POOL_BAD_LENGTH',
      `The coordinator expects ${view.length} values for ${queryId}; this site's answer gives ${entry.pool.values.length}.`,
    );
  const peers = trustedPeers({
    members: view.cohort,
    enrollment,
    journal: {
      pinPeers: (seen) => {
        for (const e of seen) {
          const known = args.pins.peer(e.siteId);
          if (known && (known.signPublicKey !== e.signPublicKey || known.boxPublicKey !== e.boxPublicKey))
            throw new TwinfedError(
              'SECAGG_UNTRUSTED_KEY',
              `The coordinator now lists other keys for site ${e.siteId} than the ones this site pinned on ${known.pinnedAt}.`,
            );
        }
      },
    },
  });
  const recorded = entry.pool.cohort;
  if (recorded !== null && recorded.join('\n') !== [...ids].sort().join('\n'))
    throw new TwinfedError(
      'SECAGG_INCONSISTENT',
      `The coordinator now lists another cohort for ${queryId} than the one this site masked its vector for.`,
    );
  let masked = entry.pool.masked;
  if (masked === null) {
    masked = toB64(
      maskContribution({
        values: entry.pool.values,
        siteId: me,
        boxSecretKey: enrollment.identity.box.secretKey,
        cohort: [...peers.values()].map((p) => ({ siteId: p.siteId, boxPublicKey: p.boxPublicKey })),
        context: cohortPoolContext(queryId),
        fractionBits: view.fractionBits,
      }),
    );
    outbox.recordPoolMasked(queryId, masked, [...ids].sort());
  }
  const ack = await api.contributeCohortPool(queryId, { masked });
  if (outbox.get(queryId)!.pool!.sentAt === null) {
    const at = args.now();
    args.audit.append({
      action: 'cohort.pooled',
      subject: queryId,
      at,
      detail: { digest: sha256Hex(masked), cohort: ack.cohort },
    });
    outbox.markPoolSent(queryId, at);
  }
  return {
    state: 'sent',
    status: ack.status,
    contributed: ack.contributed,
    cohort: ack.cohort,
    complete: ack.state === 'complete',
  };
}
