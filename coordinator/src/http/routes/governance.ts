import type { Request, Response } from 'express';
import {
  PlanAmendmentSchema,
  SiteDecisionRequestSchema,
  TwinfedError,
  type OfferedFederation,
  type SiteDecisionView,
} from '@twinfed/shared';
import { idParam, jsonBody } from '../body';
import { actorOf, principalOf } from '../auth';
import type { HttpDeps } from '../deps';
import type { Federation, Site } from '../../store';
import { federationView } from '../../rounds/views';
import { siteDecisionView } from '../views';
import { visibleSites } from '../study-scope';

/** Handlers for plan governance: the sites' decisions about federations' plans, and amending a plan before round 1. */
export function governanceHandlers(deps: HttpDeps) {
  const planSha256 = (f: Federation) => deps.engine.parsed(f).planSha256;
  /** The site's decision on the federation's current plan. */
  const decisionOf = async (f: Federation, site: Site): Promise<SiteDecisionView> => {
    const last = (await deps.store.listSiteDecisions(f.id)).find((d) => d.siteId === site.id) ?? null;
    return siteDecisionView({ federationId: f.id, planSha256: planSha256(f), site, last });
  };
  return {
    /**
     * GET /v1/sites/self/federations (site): every running federation, with its decision on each plan. Selection draws
     * from every enrolled, non-revoked site (rounds/selection), so each is offered every running federation's plan:
     * a site enrolled after a federation started must be able to read the plan it may be asked to train on, and to
     * approve it (without that, a federation that requires approvals could never take it in). Rounds, versions and
     * weights stay for members (rounds/membership).
     */
    offered: async (req: Request, res: Response) => {
      const p = principalOf(req);
      if (p.kind !== 'site') throw new TwinfedError('FORBIDDEN');
      const federations: OfferedFederation[] = [];
      for (const f of await deps.store.listFederations()) {
        if (f.state !== 'running') continue;
        federations.push({
          federation: federationView(f, deps.engine.parsed(f)),
          decision: await decisionOf(f, p.site),
        });
      }
      res.json({ federations });
    },
    /** PUT /v1/federations/:fid/decision (site): its decision about the plan with this hash (idempotent); any site offered the plan may decide. */
    decide: async (req: Request, res: Response) => {
      const fid = idParam(req, 'fid');
      const p = principalOf(req);
      if (p.kind !== 'site') throw new TwinfedError('FORBIDDEN');
      const site = p.site;
      const body = jsonBody(req, SiteDecisionRequestSchema);
      const last = await deps.engine.recordDecision({ federationId: fid, siteId: site.id, ...body });
      res.json(siteDecisionView({ federationId: fid, planSha256: body.planSha256, site, last }));
    },
    /** GET /v1/federations/:fid/decisions (operator, researcher): each enrolled, non-revoked site's decision (of the sites the caller may read). */
    list: async (req: Request, res: Response) => {
      const fid = idParam(req, 'fid');
      const federation = await deps.store.getFederation(fid);
      if (!federation) throw new TwinfedError('UNKNOWN_FEDERATION');
      const [all, visible, decisions] = await Promise.all([
        deps.store.listSites(),
        visibleSites(req, deps),
        deps.store.listSiteDecisions(fid),
      ]);
      const bySite = new Map(decisions.map((d) => [d.siteId, d]));
      // A researcher sees the sites of its studies' federations (study-scope) and those that decided on this plan.
      const shown = new Set(visible.map((s) => s.id));
      const sites = all.filter((s) => shown.has(s.id) || bySite.has(s.id));
      const digest = planSha256(federation);
      res.json({
        decisions: sites
          .filter((s) => s.revokedAt === null)
          .map((site) =>
            siteDecisionView({ federationId: fid, planSha256: digest, site, last: bySite.get(site.id) ?? null }),
          ),
      });
    },
    /** PUT /v1/federations/:fid/plan (operator): a new plan before round 1. */
    amend: async (req: Request, res: Response) => {
      const fid = idParam(req, 'fid');
      const { plan } = jsonBody(req, PlanAmendmentSchema);
      const federation = await deps.engine.amendPlan(fid, plan, actorOf(req));
      res.json(federationView(federation, deps.engine.parsed(federation)));
    },
  };
}
