import type { Request, Response } from 'express';
import { IdSchema, PopulationReportSchema, TwinfedError, type PopulationReport } from '@twinfed/shared';
import { z } from 'zod';
import { jsonBody } from '../body';
import { siteOf } from '../auth';
import { requireSiteMember } from '../membership';
import type { HttpDeps } from '../deps';
import { populationView } from '../../population/view';
import { visibleFederationIds, visibleFederations } from '../study-scope';

const VersionOf = z.looseObject({ versionId: IdSchema });

/** Handlers for sites' population reports and the consortium's population view. */
export function populationHandlers(deps: HttpDeps) {
  return {
    report: async (req: Request, res: Response) => {
      const siteId = siteOf(req);
      // The version (hence the federation) first: a site outside it is refused before its report is examined.
      const { versionId } = jsonBody(req, VersionOf);
      const version = await deps.store.getVersion(versionId);
      if (!version) throw new TwinfedError('UNKNOWN_MODEL_VERSION');
      await requireSiteMember(req, deps, version.federationId);
      const report = jsonBody(req, PopulationReportSchema);
      const stored = await deps.store.putPopulationReport({
        versionId: version.id,
        federationId: version.federationId,
        siteId,
        report,
        createdAt: new Date(deps.now()).toISOString(),
      });
      res.status(201).json({ versionId: stored.versionId, siteId: stored.siteId, createdAt: stored.createdAt });
    },
    view: async (req: Request, res: Response) => {
      const versionId = typeof req.query.version === 'string' ? req.query.version : undefined;
      let federationId = typeof req.query.federation === 'string' ? req.query.federation : undefined;
      if (!versionId && !federationId) {
        const feds = await visibleFederations(req, deps);
        federationId = feds.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).at(-1)?.id;
      }
      const visible = await visibleFederationIds(req, deps);
      const records = (
        await deps.store.listPopulationReports({
          ...(versionId ? { versionId } : {}),
          ...(federationId ? { federationId } : {}),
        })
      ).filter((r) => !visible || visible.has(r.federationId));
      const names = new Map((await deps.store.listSites()).map((s) => [s.id, s.name]));
      const view = populationView(
        records.map((r) => ({
          siteId: r.siteId,
          name: names.get(r.siteId) ?? r.siteId,
          versionId: r.versionId,
          report: r.report as unknown as PopulationReport,
        })),
      );
      res.json({ federationId: federationId ?? null, ...view });
    },
  };
}
