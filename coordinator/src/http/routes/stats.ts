import type { Request, Response } from 'express';
import { StatsContributionSchema, fromB64 } from '@twinfed/shared';
import { idParam, jsonBody } from '../body';
import { memberSite } from '../membership';
import type { HttpDeps } from '../deps';
import { contributeStats, pooledNormalization, statsSession } from '../../stats/session';

/** Handlers for the secure sum of federated normalisation statistics (sites), and its pooled result (readers). */
export function statsHandlers(deps: HttpDeps) {
  return {
    session: async (req: Request, res: Response) => {
      const fid = idParam(req, 'fid');
      await memberSite(req, deps, fid);
      res.json(await statsSession(deps.store, fid, deps.engine.directory));
    },
    /** Operators and researchers: the pooled statistics (an aggregate over the cohort), for model export. */
    pooled: async (req: Request, res: Response) => {
      res.json(await pooledNormalization(deps.store, idParam(req, 'fid')));
    },
    contribute: async (req: Request, res: Response) => {
      const fid = idParam(req, 'fid');
      const { siteId } = await memberSite(req, deps, fid);
      const body = jsonBody(req, StatsContributionSchema);
      const ack = await contributeStats({
        store: deps.store,
        federationId: fid,
        siteId,
        masked: fromB64(body.masked),
        now: new Date(deps.now()).toISOString(),
      });
      res.status(ack.status === 'accepted' ? 201 : 200).json(ack);
    },
  };
}
