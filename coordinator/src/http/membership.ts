import type { Request } from 'express';
import { TwinfedError } from '@twinfed/shared';
import type { Federation, Site } from '../store';
import { requireMember } from '../rounds/membership';
import { principalOf } from './auth';
import type { HttpDeps } from './deps';

/**
 * Federation-scoped routes call this before reading or writing anything of the federation: a site caller must belong
 * to it (rounds/membership; 403 NOT_A_MEMBER otherwise); operators and researchers pass. Returns the site id when the
 * caller is a site, null otherwise.
 */
export async function requireSiteMember(
  req: Request,
  deps: Pick<HttpDeps, 'store'>,
  federationId: string,
): Promise<string | null> {
  const p = principalOf(req);
  if (p.kind !== 'site') return null;
  await requireMember(deps.store, federationId, p.site);
  return p.siteId;
}

/** Like {@link requireSiteMember} for a route that only sites call: the site (as authentication read it) and the federation. */
export async function memberSite(
  req: Request,
  deps: Pick<HttpDeps, 'store'>,
  federationId: string,
): Promise<{ siteId: string; site: Site; federation: Federation }> {
  const p = principalOf(req);
  if (p.kind !== 'site') throw new TwinfedError('FORBIDDEN');
  return { siteId: p.siteId, site: p.site, federation: await requireMember(deps.store, federationId, p.site) };
}
