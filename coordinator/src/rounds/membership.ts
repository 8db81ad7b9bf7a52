import { TwinfedError } from '@twinfed/shared';
import type { Federation, Site, Store } from '../store';

/**
 * True when a site was part of a federation from its start: enrolled at or before the federation was created and
 * not revoked at that moment. This is also the cohort of the federation's secure sum of statistics (stats/session).
 */
export function foundingMember(federation: Federation, site: Site): boolean {
  const at = federation.createdAt;
  return site.enrolledAt <= at && (site.revokedAt === null || site.revokedAt > at);
}

/**
 * Whether a site belongs to a federation: it is not revoked and either was a founding member ({@link foundingMember})
 * or was selected for at least one of the federation's rounds. A site enrolled after the federation started is
 * still eligible for selection (rounds draw from every enrolled, non-revoked site) and belongs to it from the first
 * round that selects it. Cheapest evidence first: the site record (the caller's, already read by authentication),
 * the current round, then every round.
 */
async function isMember(store: Store, federation: Federation, site: Site): Promise<boolean> {
  if (site.revokedAt !== null) return false;
  const siteId = site.id;
  if (foundingMember(federation, site)) return true;
  const current = federation.currentRound > 0 ? await store.getRound(federation.id, federation.currentRound) : null;
  if (current?.selectedSiteIds.includes(siteId)) return true;
  return (await store.listRounds(federation.id)).some((r) => r.selectedSiteIds.includes(siteId));
}

/**
 * The federation, when `siteId` belongs to it. Throws UNKNOWN_FEDERATION (404) when there is no such federation and
 * NOT_A_MEMBER (403) when the site does not belong to it — checked before anything of the federation is read or
 * written on the site's behalf.
 */
export async function requireMember(store: Store, federationId: string, site: Site): Promise<Federation> {
  const federation = await store.getFederation(federationId);
  if (!federation) throw new TwinfedError('UNKNOWN_FEDERATION');
  if (!(await isMember(store, federation, site))) throw new TwinfedError('NOT_A_MEMBER');
  return federation;
}
