import type { Request, Response } from 'express';
import { SecaggConsistencySchema, SecaggRevealSchema, SecaggSharesSchema } from '@twinfed/shared';
import { idParam, intParam, jsonBody } from '../body';
import { memberSite } from '../membership';
import type { HttpDeps } from '../deps';

/** Handlers for secure aggregation of a round's updates (sites only; see rounds/secagg). */
export function secaggHandlers(deps: HttpDeps) {
  /** The federation, round and calling site — a member of the federation (checked before the body is read). */
  const where = async (req: Request) => {
    const federationId = idParam(req, 'fid');
    const round = intParam(req, 'round');
    const { siteId } = await memberSite(req, deps, federationId);
    return { federationId, round, siteId };
  };
  return {
    state: async (req: Request, res: Response) => {
      res.json(await deps.engine.secaggState(await where(req)));
    },
    shares: async (req: Request, res: Response) => {
      const ack = await deps.engine.secaggShares({ ...(await where(req)), body: jsonBody(req, SecaggSharesSchema) });
      res.status(ack.status === 'accepted' ? 201 : 200).json(ack);
    },
    consistency: async (req: Request, res: Response) => {
      const ack = await deps.engine.secaggConsistency({
        ...(await where(req)),
        body: jsonBody(req, SecaggConsistencySchema),
      });
      res.status(ack.status === 'accepted' ? 201 : 200).json(ack);
    },
    reveal: async (req: Request, res: Response) => {
      const ack = await deps.engine.secaggReveal({ ...(await where(req)), body: jsonBody(req, SecaggRevealSchema) });
      res.status(ack.status === 'accepted' ? 201 : 200).json(ack);
    },
  };
}
