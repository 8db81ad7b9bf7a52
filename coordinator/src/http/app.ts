import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { BINARY_MEDIA_TYPE, TwinfedError } from '@twinfed/shared';
import { authenticate, type Principal } from './auth';
import { authFailureLimiter } from './auth-failures';
import { auditAuthFailureBursts } from '../audit/auth-bursts';
import type { HttpDeps } from './deps';
import { errorHandler } from './errors';
import { routeTable, type RouteDef } from './route-table';

/** Builds the coordinator's express application from the route table. */
export function createApp(deps: HttpDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Behind a TLS-terminating reverse proxy, req.ip is the X-Forwarded-For address the listed proxies vouch for;
  // by default nobody is trusted and req.ip is the TCP peer.
  app.set('trust proxy', deps.config.trustProxy ?? false);
  app.use(helmet());
  app.use(refuseWhileDraining(deps));
  const onTrip = auditAuthFailureBursts({ store: deps.store, now: deps.now, logger: deps.logger });
  app.use(authFailureLimiter({ maxFailures: deps.config.maxAuthFailuresPerMinute, windowMs: 60_000, now: deps.now, onTrip }));
  for (const route of routeTable(deps)) {
    const gate = route.body === 'binary' && deps.uploadGate ? [deps.uploadGate.middleware()] : [];
    app[route.method](route.path, ...gate, contentType(route), readBody(route, deps), authorize(route, deps), route.handler);
  }
  app.use((_req: Request, _res: Response, next: NextFunction) => next(new TwinfedError('NOT_FOUND')));
  app.use(errorHandler(deps.logger));
  return app;
}

/** During shutdown every new request but liveness gets 503 NOT_READY (and the connection is closed). */
function refuseWhileDraining(deps: HttpDeps) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!deps.draining?.() || req.path === '/healthz') return next();
    res.setHeader('Connection', 'close');
    res.setHeader('Retry-After', '5');
    req.resume();
    next(new TwinfedError('NOT_READY', 'The coordinator is shutting down; retry shortly.'));
  };
}

function contentType(route: RouteDef) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (route.method !== 'post') return next();
    const want = route.body === 'binary' ? BINARY_MEDIA_TYPE : 'application/json';
    const hasBody = Number(req.header('content-length') ?? 0) > 0 || req.header('transfer-encoding') !== undefined;
    if (hasBody && !req.is(want)) return next(new TwinfedError('UNSUPPORTED_MEDIA_TYPE', `Expected ${want}.`));
    next();
  };
}

function readBody(route: RouteDef, deps: HttpDeps) {
  const limit = route.body === 'binary' ? deps.config.maxUpdateBytes : deps.config.maxJsonBytes;
  return express.raw({ type: () => true, limit });
}

function authorize(route: RouteDef, deps: HttpDeps) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const principal: Principal = await authenticate(req, route.roles, { store: deps.store, requestWindowMs: deps.config.requestWindowMs, now: deps.now, ...(deps.presence ? { presence: deps.presence } : {}) });
    (req as Request & { principal?: Principal }).principal = principal;
    next();
  };
}
