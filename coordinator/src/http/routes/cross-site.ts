import type { Request, Response } from 'express';
import { CrossSiteAnswerSchema, CrossSiteResultSchema } from '@twinfed/shared';
import { idParam, jsonBody } from '../body';
import { memberSite } from '../membership';
import type { HttpDeps } from '../deps';
import { answerCrossSite, crossSiteSessionFor, crossSiteView, reportCrossSite } from '../../cross-site/session';

/** Handlers of the cross-site evaluation: the sites' session, answers and results; the readers' view of the matrix. */
export function crossSiteHandlers(deps: HttpDeps) {
  const cs = { store: deps.store, identity: deps.identity, now: deps.now };
  return {
    view: async (req: Request, res: Response) => {
      // The router's study-scope guard has already answered 404 for a federation outside a researcher's studies.
      res.json(await crossSiteView(cs, idParam(req, 'fid')));
    },
    session: async (req: Request, res: Response) => {
      const fid = idParam(req, 'fid');
      const { siteId } = await memberSite(req, deps, fid);
      res.json(await crossSiteSessionFor({ ...cs, directory: deps.engine.directory }, fid, siteId));
    },
    answer: async (req: Request, res: Response) => {
      const fid = idParam(req, 'fid');
      const { siteId } = await memberSite(req, deps, fid);
      const ack = await answerCrossSite(cs, fid, siteId, jsonBody(req, CrossSiteAnswerSchema));
      res.status(ack.status === 'accepted' ? 201 : 200).json(ack);
    },
    results: async (req: Request, res: Response) => {
      const fid = idParam(req, 'fid');
      const { siteId } = await memberSite(req, deps, fid);
      const ack = await reportCrossSite(cs, fid, siteId, jsonBody(req, CrossSiteResultSchema));
      res.status(ack.status === 'accepted' ? 201 : 200).json(ack);
    },
  };
}
