import type { Request, Response } from 'express';
import { StatsContributionSchema, fromB64 } from '@twinfed/shared';
import { idParam, jsonBody } from '../body';
import { memberSite } from '../membership';
import type { HttpDeps } from '../deps';
import { baselineSession, contributeBaseline } from '../../baseline/session';

/** Handlers for a Cox federation's baseline secure sum (sites). */
export function baselineHandlers(deps: HttpDeps) {
  return {
    session: async (req: Request, res: Response) => {
      const fid = idParam(req, 'fid');
      await memberSite(req, deps, fid);
      res.json(await baselineSession(deps.store, fid, deps.engine.directory, deps.now()));
    },
    contribute: async (req: Request, res: Response) => {
      const fid = idParam(req, 'fid');
      const { siteId } = await memberSite(req, deps, fid);
      const body = jsonBody(req, StatsContributionSchema);
      const ack = await contributeBaseline({
        store: deps.store,
        federationId: fid,
        siteId,
        masked: fromB64(body.masked),
        now: deps.now(),
      });
      await deps.engine.baselineContributed(fid);
      res.status(ack.status === 'accepted' ? 201 : 200).json(ack);
    },
  };
}
