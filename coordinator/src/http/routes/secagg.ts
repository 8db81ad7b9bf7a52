import type { Request, Response } from 'express';
import { ZodError } from 'zod';
import {
  SecaggConsistencySchema,
  SecaggRevealSchema,
  SecaggSharesSchema,
  TwinfedError,
  api,
  secaggStateSections,
} from '@twinfed/shared';
import { answerBytes } from '../answer';
import { idParam, intParam, jsonBody } from '../body';
import { frozenJsonParts } from '../frozen-json';
import { memberSite } from '../membership';
import type { HttpDeps } from '../deps';

const StateQuery = api.secagg.get.request.query;

/**
 * A key-share message; one wrong only in the evaluation it carries is `INVALID_BASE_EVALUATION` (as an update's header
 * is), so the site learns which part was refused and can send its shares without it.
 */
function sharesBody(req: Request) {
  try {
    return jsonBody(req, SecaggSharesSchema);
  } catch (e) {
    if (e instanceof ZodError && e.issues.every((i) => i.path[0] === 'baseEvaluation'))
      throw new TwinfedError('INVALID_BASE_EVALUATION', undefined, {
        details: e.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      });
    throw e;
  }
}

/** Handlers for secure aggregation of a round's updates (sites only; see rounds/secagg). */
export function secaggHandlers(deps: HttpDeps) {
  /** The federation, round and calling site — a member of the federation (checked before the body is read). */
  const where = async (req: Request) => {
    const federationId = idParam(req, 'fid');
    const round = intParam(req, 'round');
    const { siteId, federation } = await memberSite(req, deps, federationId);
    return { federationId, round, siteId, federation };
  };
  return {
    state: async (req: Request, res: Response) => {
      const at = await where(req);
      const query = StateQuery.safeParse(req.query);
      if (!query.success)
        throw new TwinfedError(
          'VALIDATION_FAILED',
          'Use ?view=neighbourhood or ?view=full, and ?have= with some of directory, survivors, maskedBy (comma-separated), or no query.',
        );
      // Read several times per site and round: written without express's ETag, its round-long parts serialised once.
      const state = await deps.engine.secaggState({
        ...at,
        view: query.data.view ?? 'full',
        have: secaggStateSections(query.data.have),
      });
      answerBytes(res, 'application/json; charset=utf-8', frozenJsonParts(state));
    },
    shares: async (req: Request, res: Response) => {
      const ack = await deps.engine.secaggShares({ ...(await where(req)), body: sharesBody(req) });
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
