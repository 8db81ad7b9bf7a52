import type { Request, Response } from 'express';
import { StatsContributionSchema, fromB64 } from '@twinfed/shared';
import { idParam, jsonBody } from '../body';
import { memberSite, requireSiteMember } from '../membership';
import type { HttpDeps } from '../deps';
import { contributeRecalibration, recalibrationSession, type RecalibrationDeps } from '../../recalibration/session';

/** Handlers for a federation's recalibration: its session (sites, operators, researchers) and the sites' histograms. */
export function recalibrationHandlers(deps: HttpDeps) {
  // Built per request: the route table is also built without an engine (to list the routes).
  const r = (): RecalibrationDeps => ({
    store: deps.store,
    directory: deps.engine.directory,
    identity: deps.identity,
    logger: deps.logger,
    now: deps.now,
    announce: (e) => deps.engine.announceVersion(e),
  });
  return {
    session: async (req: Request, res: Response) => {
      const fid = idParam(req, 'fid');
      await requireSiteMember(req, deps, fid);
      res.json(await recalibrationSession(r(), fid));
    },
    contribute: async (req: Request, res: Response) => {
      const fid = idParam(req, 'fid');
      const { siteId } = await memberSite(req, deps, fid);
      const body = jsonBody(req, StatsContributionSchema);
      const ack = await contributeRecalibration(r(), { federationId: fid, siteId, masked: fromB64(body.masked) });
      res.status(ack.status === 'accepted' ? 201 : 200).json(ack);
    },
  };
}
