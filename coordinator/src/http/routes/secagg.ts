import type { Request, Response } from 'express';
import { SecaggRevealSchema, SecaggSharesSchema } from '@twinfed/shared';
import { idParam, intParam, jsonBody } from '../body';
import { siteOf } from '../auth';
import type { HttpDeps } from '../deps';

/** Handlers for secure aggregation of a round's updates (sites only; see rounds/secagg). */
export function secaggHandlers(deps: HttpDeps) {
  const where = (req: Request) => ({ federationId: idParam(req, 'fid'), round: intParam(req, 'round'), siteId: siteOf(req) });
  return {
    state: async (req: Request, res: Response) => {
      res.json(await deps.engine.secaggState(where(req)));
    },
    shares: async (req: Request, res: Response) => {
      const ack = await deps.engine.secaggShares({ ...where(req), body: jsonBody(req, SecaggSharesSchema) });
      res.status(ack.status === 'accepted' ? 201 : 200).json(ack);
    },
    reveal: async (req: Request, res: Response) => {
      const ack = await deps.engine.secaggReveal({ ...where(req), body: jsonBody(req, SecaggRevealSchema) });
      res.status(ack.status === 'accepted' ? 201 : 200).json(ack);
    },
  };
}
