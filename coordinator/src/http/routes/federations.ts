import type { Request, Response } from 'express';
import {
  CreateFederationSchema,
  DEFAULT_STUDY_ID,
  TwinfedError,
  type EvaluationView,
  type FederationEvaluations,
} from '@twinfed/shared';
import { answerJson } from '../answer';
import { idParam, intParam, jsonBody, rawBody } from '../body';
import { principalOf } from '../auth';
import { memberSite, requireSiteMember } from '../membership';
import type { HttpDeps } from '../deps';
import { federationView, roundView } from '../../rounds/views';
import { evaluationView } from '../views';
import { visibleFederations } from '../study-scope';

/** Handlers for federations, rounds and update uploads. */
export function federationHandlers(deps: HttpDeps) {
  const getFederation = async (id: string) => {
    const fed = await deps.store.getFederation(id);
    if (!fed) throw new TwinfedError('UNKNOWN_FEDERATION');
    return fed;
  };
  const roundViews = async (fid: string) =>
    Promise.all(
      (await deps.store.listRounds(fid)).map(async (r) => roundView(r, await deps.store.countUpdates(fid, r.round))),
    );
  return {
    list: async (req: Request, res: Response) => {
      res.json({
        federations: (await visibleFederations(req, deps)).map((f) => federationView(f, deps.engine.parsed(f))),
      });
    },
    create: async (req: Request, res: Response) => {
      const { plan, study } = jsonBody(req, CreateFederationSchema);
      const p = principalOf(req);
      const fed = await deps.engine.createFederation(
        plan,
        p.kind === 'token' ? `${p.role}:${p.name}` : 'unknown',
        study ?? DEFAULT_STUDY_ID,
      );
      res.status(201).json(federationView(fed, deps.engine.parsed(fed)));
    },
    get: async (req: Request, res: Response) => {
      const fid = idParam(req, 'fid');
      const fed = await getFederation(fid);
      await requireSiteMember(req, deps, fid);
      res.json(federationView(fed, deps.engine.parsed(fed)));
    },
    rounds: async (req: Request, res: Response) => {
      const fid = idParam(req, 'fid');
      await getFederation(fid);
      res.json({ rounds: await roundViews(fid) });
    },
    evaluations: async (req: Request, res: Response) => {
      const fid = idParam(req, 'fid');
      await getFederation(fid);
      const [versions, evaluations] = await Promise.all([
        deps.store.listVersions({ federationId: fid }),
        deps.store.listFederationEvaluations(fid),
      ]);
      const byVersion = new Map<string, EvaluationView[]>();
      for (const e of evaluations)
        byVersion.set(e.versionId, [...(byVersion.get(e.versionId) ?? []), evaluationView(e)]);
      const body: FederationEvaluations = {
        federationId: fid,
        versions: versions.map((v) => ({
          versionId: v.id,
          round: v.round,
          createdAt: v.createdAt,
          evaluations: byVersion.get(v.id) ?? [],
        })),
      };
      res.json(body);
    },
    current: async (req: Request, res: Response) => {
      const fid = idParam(req, 'fid');
      const { siteId, federation } = await memberSite(req, deps, fid);
      answerJson(res, 200, await deps.engine.currentRoundFor(fid, siteId, federation));
    },
    upload: async (req: Request, res: Response) => {
      const fid = idParam(req, 'fid');
      const round = intParam(req, 'round');
      const { siteId, site, federation } = await memberSite(req, deps, fid);
      const ack = await deps.engine.submitUpdate({
        federationId: fid,
        round,
        siteId,
        site,
        federation,
        bytes: rawBody(req),
      });
      answerJson(res, ack.status === 'accepted' ? 201 : 200, ack);
      deps.crashPoints?.hit('upload.responded');
    },
  };
}
