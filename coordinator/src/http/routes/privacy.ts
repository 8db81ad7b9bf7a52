import type { Request, Response } from 'express';
import { TwinfedError, type PrivacyLedger } from '@twinfed/shared';
import { siteOf } from '../auth';
import type { HttpDeps } from '../deps';
import { visibleFederationIds, visibleFederations } from '../study-scope';
import { privacyLedger } from '../../privacy/ledger';

/** Handlers of the site-level privacy ledger: the consortium's (operators, researchers) and a site's own. */
export function privacyHandlers(deps: HttpDeps) {
  const versionsOf = async (federationIds: ReadonlySet<string>) =>
    (await deps.store.listVersions()).filter((v) => federationIds.has(v.federationId));
  return {
    ledger: async (req: Request, res: Response) => {
      const scoped = (await visibleFederationIds(req, deps)) !== null;
      const federations = await visibleFederations(req, deps);
      const versions = await versionsOf(new Set(federations.map((f) => f.id)));
      const sites = await deps.store.listSites();
      const body: PrivacyLedger = {
        composition: 'basic',
        scope: scoped ? 'studies' : 'all',
        sites: privacyLedger({ federations, versions, sites }),
      };
      res.json(body);
    },
    site: async (req: Request, res: Response) => {
      const site = await deps.store.getSite(siteOf(req));
      if (!site) throw new TwinfedError('UNKNOWN_SITE');
      const federations = await deps.store.listFederations();
      const versions = await versionsOf(new Set(federations.map((f) => f.id)));
      const body: PrivacyLedger = {
        composition: 'basic',
        scope: 'site',
        sites: privacyLedger({ federations, versions, sites: [site] }, site.id),
      };
      res.json(body);
    },
  };
}
