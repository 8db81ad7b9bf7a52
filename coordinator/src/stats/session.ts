import {
  PlanSchema,
  SECURE_SUM_FRACTION_BITS,
  TwinfedError,
  assertStatsCohort,
  normalizationFromSums,
  normalizationStatsLength,
  ringFromBytes,
  toB64,
  type NormalizationView,
  type StatsAck,
  type StatsSession,
} from '@twinfed/shared';
import type { Federation, Site, Store } from '../store';
import type { SiteDirectory } from '../registry/site-directory';
import { foundingMember } from '../rounds/membership';
import {
  assertMember,
  collectSum,
  contributionAck,
  storeContribution,
  type ContributionRequest,
} from '../secure-sum/session';

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

/** The collected sum, complete once every member of an allowed cohort contributed. */
async function session(store: Store, federationId: string) {
  const { plan, cohort, length } = await load(store, federationId);
  const sum = await collectSum(store, 'stats', federationId, cohort, length);
  return { sum, complete: cohortAllowed(cohort.length, plan.minSites) && sum.complete };
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
  const { sum, complete } = await session(store, federationId);
  return {
    federationId,
    length: sum.length,
    fractionBits: SECURE_SUM_FRACTION_BITS,
    cohort: sum.cohort.map((m) => directory.entry(m)),
    contributed: sum.contributed,
    sum: complete ? toB64(sum.ringSum()) : null,
  };
}

/**
 * The pooled normalisation statistics of a federated-normalisation federation, decoded from the completed secure
 * sum (what every site trains with): `waiting` until every cohort member contributed. Throws UNKNOWN_FEDERATION,
 * or BAD_REQUEST when the plan does not use federated normalisation.
 */
export async function pooledNormalization(store: Store, federationId: string): Promise<NormalizationView> {
  const { sum, complete } = await session(store, federationId);
  const base = { federationId, contributed: sum.contributions.length, cohort: sum.cohort.length };
  if (!complete) return { ...base, state: 'waiting', rows: null, mean: null, std: null };
  const pooled = normalizationFromSums(sum.decoded(), (sum.length - 1) / 2);
  return { ...base, state: 'ready', rows: pooled.n, mean: pooled.mean, std: pooled.std };
}

/**
 * Stores a cohort member's masked contribution once (the same bytes again are a duplicate). Throws FORBIDDEN
 * outside the cohort, SECAGG_COHORT_TOO_SMALL for a cohort under max(3, minSites) sites (the cohort rule of secure
 * aggregation: a "sum" of two would be the other site's numbers to each),
 * VALIDATION_FAILED for a vector of the wrong length, ALREADY_EXISTS when different bytes are already stored.
 */
export async function contributeStats(opts: ContributionRequest & { now: string }): Promise<StatsAck> {
  const { store, federationId, siteId, masked } = opts;
  const { plan, cohort, length } = await load(store, federationId);
  assertMember(
    cohort,
    siteId,
    "This site is not in the federation's statistics cohort (it enrolled after the federation was created).",
  );
  assertStatsCohort(cohort.length, plan.minSites);
  ringFromBytes(masked, length);
  const status = await storeContribution({
    store,
    kind: 'stats',
    federationId,
    siteId,
    masked,
    createdAt: opts.now,
    conflict: 'A different statistics contribution from this site is already stored.',
    detail: {},
  });
  return contributionAck(store, 'stats', { federationId, siteId, status, cohort });
}
