import type { Request, Response } from 'express';
import { api, METHODS, type Api, type BodyKind, type Method, type Operation, type Role } from '@twinfed/shared';
import type { HttpDeps } from './deps';
import { federationHandlers } from './routes/federations';
import { governanceHandlers } from './routes/governance';
import { modelHandlers } from './routes/models';
import { siteHandlers } from './routes/sites';
import { healthHandlers } from './routes/health';
import { populationHandlers } from './routes/population';
import { privacyHandlers } from './routes/privacy';
import { metricsHandlers } from './routes/metrics';
import { openApiHandlers } from './routes/openapi';
import { baselineHandlers } from './routes/baseline';
import { statsHandlers } from './routes/stats';
import { recalibrationHandlers } from './routes/recalibration';
import { crossSiteHandlers } from './routes/cross-site';
import { secaggHandlers } from './routes/secagg';
import { tokenHandlers } from './routes/tokens';
import { auditHandlers } from './routes/audit';
import { cohortHandlers } from './routes/cohort';
import { studyHandlers } from './routes/studies';
import { dashboardHandlers } from '../dashboard/assets';

export type { BodyKind };

type Handler = (req: Request, res: Response) => Promise<void>;

/** A handler for every operation of the contract: a missing or extra one does not compile. */
type Handlers = { readonly [K in keyof Api]: { readonly [M in keyof Api[K] & Method]: Handler } };

/** One route: the contract's operation (path, method, roles, body kind) and the handler that serves it. */
export interface RouteDef {
  /** The resource's name in the contract (`api`). */
  name: keyof Api;
  method: Method;
  path: string;
  roles: readonly Role[];
  body: BodyKind;
  operation: Operation;
  handler: Handler;
}

/** Every route of the coordinator's REST API: the contract's operations, each with its handler. A test walks every route × role. */
export function routeTable(deps: HttpDeps): RouteDef[] {
  const sites = siteHandlers(deps);
  const feds = federationHandlers(deps);
  const governance = governanceHandlers(deps);
  const models = modelHandlers(deps);
  const health = healthHandlers(deps);
  const stats = statsHandlers(deps);
  const recalibration = recalibrationHandlers(deps);
  const baseline = baselineHandlers(deps);
  const crossSite = crossSiteHandlers(deps);
  const secagg = secaggHandlers(deps);
  const tokens = tokenHandlers(deps);
  const audit = auditHandlers(deps);
  const population = populationHandlers(deps);
  const cohort = cohortHandlers(deps);
  const studies = studyHandlers(deps);
  const privacy = privacyHandlers(deps);
  const dashboard = dashboardHandlers();
  // One line per family of handlers, each entry `contract name: { method: handler }`.
  const handlers: Handlers = {
    healthz: { get: health.live },
    readyz: { get: health.ready },
    metrics: { get: metricsHandlers(deps).get },
    openapi: { get: openApiHandlers().get },
    dashboard: { get: dashboard.page },
    dashboardAsset: { get: dashboard.asset },
    coordinatorKeys: { get: sites.coordinatorKeys },
    enroll: { post: sites.enroll },
    siteSelf: { get: sites.self },
    sitePrivacy: { get: privacy.site },
    siteFederations: { get: governance.offered },
    invitations: { post: sites.invite },
    adminSites: { get: sites.list },
    privacyLedger: { get: privacy.ledger },
    revokeSite: { post: sites.revoke },
    federations: { get: feds.list, post: feds.create },
    federation: { get: feds.get },
    federationPlan: { put: governance.amend },
    federationDecision: { put: governance.decide },
    federationDecisions: { get: governance.list },
    rounds: { get: feds.rounds },
    federationEvaluations: { get: feds.evaluations },
    currentRound: { get: feds.current },
    currentRoundDownload: { get: models.currentRoundDownload },
    updates: { post: feds.upload },
    secagg: { get: secagg.state },
    secaggShares: { post: secagg.shares },
    secaggConsistency: { post: secagg.consistency },
    secaggReveal: { post: secagg.reveal },
    federationStats: { get: stats.session, post: stats.contribute },
    federationRecalibration: { get: recalibration.session, post: recalibration.contribute },
    federationBaseline: { get: baseline.session, post: baseline.contribute },
    crossSite: { get: crossSite.view },
    crossSiteSession: { get: crossSite.session },
    crossSiteAnswer: { post: crossSite.answer },
    crossSiteResults: { post: crossSite.results },
    normalization: { get: stats.pooled },
    models: { get: models.list },
    model: { get: models.get },
    modelWeights: { get: models.weights },
    modelDownload: { get: models.download },
    modelEvaluations: { get: models.evaluations, post: models.report },
    populationReports: { post: population.report },
    population: { get: population.view },
    cohortQueries: { get: cohort.list, post: cohort.create },
    cohortQuery: { get: cohort.result },
    cohortAnswers: { put: cohort.answer },
    cohortPool: { get: cohort.pool, post: cohort.contribute },
    siteCohortQueries: { get: cohort.forSite },
    audit: { get: audit.list },
    auditHeads: { get: audit.heads },
    auditVerify: { get: audit.verify },
    tokens: { get: tokens.list, post: tokens.create },
    revokeToken: { post: tokens.revoke },
    studies: { get: studies.list, post: studies.create },
    study: { get: studies.get },
  };
  const routes: RouteDef[] = [];
  for (const name of Object.keys(api) as Array<keyof Api>) {
    const resource: { path: string } & Partial<Record<Method, Operation>> = api[name];
    const served = handlers[name] as Partial<Record<Method, Handler>>;
    for (const method of METHODS) {
      const operation = resource[method];
      const handler = served[method];
      if (!operation || !handler) continue;
      routes.push({
        name,
        method,
        path: resource.path,
        roles: operation.roles,
        body: operation.request.body === 'binary' ? 'binary' : 'json',
        operation,
        handler,
      });
    }
  }
  return routes;
}
