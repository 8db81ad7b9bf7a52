import {
  PlanSchema,
  SECURE_SUM_FRACTION_BITS,
  TwinfedError,
  assertStatsCohort,
  decodeSecureSum,
  normalizationFromSums,
  normalizationStatsLength,
  ringFromBytes,
  sumMaskedContributions,
  toB64,
  type NormalizationView,
  type StatsAck,
  type StatsSession,
} from '@twinfed/shared';
import type { Federation, Site, Store } from '../store';
import type { SiteDirectory } from '../registry/site-directory';
import { foundingMember } from '../rounds/membership';

/**
 * The cohort of a federation's secure sum: the sites enrolled when the federation was created and not revoked at
 * that moment, sorted by id. Frozen by construction (it depends only on stored times), so every site and every
 * coordinator process derives the same masks' partners. There is no dropout recovery: a member that never
 * contributes (or is revoked later) keeps the sum from completing.
 */
export function statsCohort(federation: Federation, sites: readonly Site[]): Site[] {
  return sites.filter((s) => foundingMember(federation, s)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Whether a cohort of `size` may be summed under the plan's `minSites` (see `assertStatsCohort`). */
function cohortAllowed(size: number, minSites: number): boolean {
  try {
    assertStatsCohort(size, minSites);
    return true;
  } catch {
    return false;
  }
}

async function load(store: Store, federationId: string) {
  const federation = await store.getFederation(federationId);
  if (!federation) throw new TwinfedError('UNKNOWN_FEDERATION');
  const plan = PlanSchema.parse(federation.plan);
  if (plan.data.normalization !== 'federated')
    throw new TwinfedError('BAD_REQUEST', 'This federation does not use federated normalisation statistics.');
  const cohort = statsCohort(federation, await store.listSites());
  return { federation, plan, cohort, length: normalizationStatsLength(plan.data.features.length) };
}

async function session(store: Store, federationId: string) {
  const { plan, cohort, length } = await load(store, federationId);
  const members = new Set(cohort.map((s) => s.id));
  const contributions = (await store.listStatsContributions(federationId)).filter((c) => members.has(c.siteId));
  const complete = cohortAllowed(cohort.length, plan.minSites) && contributions.length === cohort.length;
  return {
    cohort,
    length,
    contributed: contributions.map((c) => c.siteId),
    sum: complete
      ? toB64(
          sumMaskedContributions(
            contributions.map((c) => c.masked),
            length,
          ),
        )
      : null,
  };
}

/**
 * The secure-sum session of a federation with `data.normalization: 'federated'`: its cohort as signed directory
 * entries (identity keys vouched for by the coordinator), who has contributed, and — once every member has — the ring
 * sum of the masked vectors (the only thing the coordinator ever learns). Throws UNKNOWN_FEDERATION, or BAD_REQUEST
 * when the plan does not ask for it.
 */
export async function statsSession(
  store: Store,
  federationId: string,
  directory: SiteDirectory,
): Promise<StatsSession> {
  const s = await session(store, federationId);
  return {
    federationId,
    length: s.length,
    fractionBits: SECURE_SUM_FRACTION_BITS,
    cohort: s.cohort.map((m) => directory.entry(m)),
    contributed: s.contributed,
    sum: s.sum,
  };
}

/**
 * The pooled normalisation statistics of a federated-normalisation federation, decoded from the completed secure
 * sum (what every site trains with): `waiting` until every cohort member contributed. Throws UNKNOWN_FEDERATION,
 * or BAD_REQUEST when the plan does not use federated normalisation.
 */
export async function pooledNormalization(store: Store, federationId: string): Promise<NormalizationView> {
  const s = await session(store, federationId);
  const base = { federationId, contributed: s.contributed.length, cohort: s.cohort.length };
  if (s.sum === null) return { ...base, state: 'waiting', rows: null, mean: null, std: null };
  const d = (s.length - 1) / 2;
  const sum = decodeSecureSum(Buffer.from(s.sum, 'base64'), {
    length: s.length,
    fractionBits: SECURE_SUM_FRACTION_BITS,
  });
  const pooled = normalizationFromSums(sum, d);
  return { ...base, state: 'ready', rows: pooled.n, mean: pooled.mean, std: pooled.std };
}

/**
 * Stores a cohort member's masked contribution once (the same bytes again are a duplicate). Throws FORBIDDEN
 * outside the cohort, SECAGG_COHORT_TOO_SMALL for a cohort under max(3, minSites) sites (the cohort rule of secure
 * aggregation: a "sum" of two would be the other site's numbers to each),
 * VALIDATION_FAILED for a vector of the wrong length, ALREADY_EXISTS when different bytes are already stored.
 */
export async function contributeStats(opts: {
  store: Store;
  federationId: string;
  siteId: string;
  masked: Uint8Array;
  now: string;
}): Promise<StatsAck> {
  const { store, federationId, siteId, masked } = opts;
  const { plan, cohort, length } = await load(store, federationId);
  if (!cohort.some((s) => s.id === siteId))
    throw new TwinfedError(
      'FORBIDDEN',
      "This site is not in the federation's statistics cohort (it enrolled after the federation was created).",
    );
  assertStatsCohort(cohort.length, plan.minSites);
  ringFromBytes(masked, length);
  const put = await store.putStatsContribution({ federationId, siteId, masked, createdAt: opts.now });
  if (put.status === 'conflict')
    throw new TwinfedError('ALREADY_EXISTS', 'A different statistics contribution from this site is already stored.');
  if (put.status === 'accepted')
    await store.appendAudit({
      at: opts.now,
      actor: `site:${siteId}`,
      action: 'stats.contribute',
      subject: federationId,
      detail: {},
    });
  const contributed = (await store.listStatsContributions(federationId)).filter((c) =>
    cohort.some((s) => s.id === c.siteId),
  ).length;
  return { federationId, siteId, status: put.status, contributed, cohort: cohort.length };
}
