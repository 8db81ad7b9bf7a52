import type { Request, Response } from 'express';
import type { Role } from './auth';
import type { HttpDeps } from './deps';
import { federationHandlers } from './routes/federations';
import { modelHandlers } from './routes/models';
import { siteHandlers } from './routes/sites';
import { healthHandlers } from './routes/health';
import { populationHandlers } from './routes/population';
import { metricsHandlers } from './routes/metrics';
import { statsHandlers } from './routes/stats';
import { secaggHandlers } from './routes/secagg';
import { tokenHandlers } from './routes/tokens';
import { auditHandlers } from './routes/audit';
import { dashboardHandlers } from '../dashboard/assets';

/** How a route's body is read: JSON (≤ maxJsonBytes) or binary (≤ maxUpdateBytes). Both are read raw: signatures cover the bytes. */
export type BodyKind = 'json' | 'binary';

/** One route: the single source of truth for its path, method, admitted roles and handler. */
export interface RouteDef {
  method: 'get' | 'post';
  path: string;
  roles: readonly Role[];
  body: BodyKind;
  handler: (req: Request, res: Response) => Promise<void>;
}

const READERS = ['operator', 'researcher'] as const;

/** Every route of the coordinator's REST API with the roles that may call it. A test walks every route × role. */
export function routeTable(deps: HttpDeps): RouteDef[] {
  const sites = siteHandlers(deps);
  const feds = federationHandlers(deps);
  const models = modelHandlers(deps);
  const health = healthHandlers(deps);
  const population = populationHandlers(deps);
  const metrics = metricsHandlers(deps);
  const stats = statsHandlers(deps);
  const secagg = secaggHandlers(deps);
  const tokens = tokenHandlers(deps);
  const audit = auditHandlers(deps);
  const dashboard = dashboardHandlers();
  const r = (method: RouteDef['method'], path: string, roles: readonly Role[], handler: RouteDef['handler'], body: BodyKind = 'json'): RouteDef => ({ method, path, roles, body, handler });
  return [
    r('get', '/healthz', ['public'], health.live),
    r('get', '/readyz', ['public'], health.ready),
    r('get', '/metrics', READERS, metrics.get),
    r('get', '/dashboard', ['public'], dashboard.page),
    r('get', '/dashboard/:asset', ['public'], dashboard.asset),
    r('get', '/v1/coordinator', ['public'], sites.coordinatorKeys),
    r('post', '/v1/enroll', ['public'], sites.enroll),
    r('get', '/v1/sites/self', ['site'], sites.self),
    r('get', '/v1/federations', READERS, feds.list),
    r('post', '/v1/federations', ['operator'], feds.create),
    r('get', '/v1/federations/:fid', [...READERS, 'site'], feds.get),
    r('get', '/v1/federations/:fid/rounds', READERS, feds.rounds),
    r('get', '/v1/federations/:fid/evaluations', READERS, feds.evaluations),
    r('get', '/v1/federations/:fid/rounds/current', ['site'], feds.current),
    r('post', '/v1/federations/:fid/rounds/:round/updates', ['site'], feds.upload, 'binary'),
    r('get', '/v1/federations/:fid/rounds/:round/secagg', ['site'], secagg.state),
    r('post', '/v1/federations/:fid/rounds/:round/secagg/shares', ['site'], secagg.shares),
    r('post', '/v1/federations/:fid/rounds/:round/secagg/consistency', ['site'], secagg.consistency),
    r('post', '/v1/federations/:fid/rounds/:round/secagg/reveal', ['site'], secagg.reveal),
    r('get', '/v1/federations/:fid/stats', ['site'], stats.session),
    r('post', '/v1/federations/:fid/stats', ['site'], stats.contribute),
    r('get', '/v1/federations/:fid/normalization', READERS, stats.pooled),
    r('get', '/v1/models', READERS, models.list),
    r('get', '/v1/models/:vid', [...READERS, 'site'], models.get),
    r('get', '/v1/models/:vid/weights', [...READERS, 'site'], models.weights),
    r('get', '/v1/models/:vid/evaluations', READERS, models.evaluations),
    r('post', '/v1/models/:vid/evaluations', ['site'], models.report),
    r('post', '/v1/population/reports', ['site'], population.report),
    r('get', '/v1/population', READERS, population.view),
    r('post', '/v1/admin/invitations', ['operator'], sites.invite),
    r('get', '/v1/admin/sites', READERS, sites.list),
    r('post', '/v1/admin/sites/:siteId/revoke', ['operator'], sites.revoke),
    r('get', '/v1/admin/audit', ['operator'], audit.list),
    r('get', '/v1/admin/audit/heads', ['operator'], audit.heads),
    r('get', '/v1/admin/audit/verify', ['operator'], audit.verify),
    r('post', '/v1/admin/tokens', ['operator'], tokens.create),
    r('get', '/v1/admin/tokens', ['operator'], tokens.list),
    r('post', '/v1/admin/tokens/:tokenId/revoke', ['operator'], tokens.revoke),
  ];
}
