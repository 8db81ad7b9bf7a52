/** Cohort statistics: readers post and read queries of a study; sites fetch the queries and answer each once. */
import type { Request, Response } from 'express';
import {
  CohortAnswerSchema,
  CohortPoolContributionSchema,
  CreateCohortQuerySchema,
  TwinfedError,
  api,
  fromB64,
} from '@twinfed/shared';
import {
  answerCohortQuery,
  cohortResult,
  createCohortQuery,
  listCohortQueries,
  siteCohortQueries,
} from '../../cohort/queries';
import { cohortPoolView, contributeToCohortPool } from '../../cohort/pool';
import { actorOf, siteOf } from '../auth';
import { idParam, jsonBody } from '../body';
import type { HttpDeps } from '../deps';
import { visibleCohortQueries, visibleSites, visibleStudy } from '../study-scope';

const ListQuery = api.cohortQueries.get.request.query;
const SiteListQuery = api.siteCohortQueries.get.request.query;

/** Handlers for `/v1/cohort-queries…` (operators and researchers; sites answer) and `/v1/sites/self/cohort-queries`. */
export function cohortHandlers(deps: HttpDeps) {
  const iso = () => new Date(deps.now()).toISOString();
  return {
    create: async (req: Request, res: Response) => {
      const body = jsonBody(req, CreateCohortQuerySchema);
      await visibleStudy(req, deps, body.studyId);
      res.status(201).json(await createCohortQuery({ store: deps.store, body, actor: actorOf(req), now: iso() }));
    },
    list: async (req: Request, res: Response) => {
      const q = ListQuery.safeParse(req.query);
      if (!q.success) throw new TwinfedError('VALIDATION_FAILED', 'Use ?study=<study id>, or no query.');
      res.json({ queries: await listCohortQueries(deps.store, await visibleCohortQueries(req, deps, q.data.study)) });
    },
    result: async (req: Request, res: Response) => {
      // The study scope guard has checked the query; pending sites are those the caller may see.
      res.json(await cohortResult(deps.store, idParam(req, 'qid'), await visibleSites(req, deps), iso()));
    },
    forSite: async (req: Request, res: Response) => {
      const siteId = siteOf(req);
      const q = SiteListQuery.safeParse(req.query);
      if (!q.success) throw new TwinfedError('VALIDATION_FAILED', 'Use ?state=pending or ?state=all.');
      res.json({ queries: await siteCohortQueries(deps.store, siteId, q.data.state) });
    },
    answer: async (req: Request, res: Response) => {
      const siteId = siteOf(req);
      const queryId = idParam(req, 'qid');
      const answer = jsonBody(req, CohortAnswerSchema);
      const ack = await answerCohortQuery({ store: deps.store, queryId, siteId, answer, now: iso() });
      res.status(ack.status === 'accepted' ? 201 : 200).json(ack);
    },
    /** Sites (their cohort and peers' keys) and readers (state and pooled figures): the query's secure pool. */
    pool: async (req: Request, res: Response) => {
      res.json(await cohortPoolView(deps.store, idParam(req, 'qid'), deps.engine.directory, iso()));
    },
    contribute: async (req: Request, res: Response) => {
      const siteId = siteOf(req);
      const queryId = idParam(req, 'qid');
      const body = jsonBody(req, CohortPoolContributionSchema);
      const ack = await contributeToCohortPool({
        store: deps.store,
        queryId,
        siteId,
        masked: fromB64(body.masked),
        now: iso(),
      });
      res.status(ack.status === 'accepted' ? 201 : 200).json(ack);
    },
  };
}
