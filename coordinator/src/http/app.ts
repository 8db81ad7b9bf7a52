import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { BINARY_MEDIA_TYPE, TwinfedError, api } from '@twinfed/shared';
import { Admission } from './admission';
import { authenticateBody, authenticateHeaders, type AuthOptions, type BodyCheck, type Principal } from './auth';
import { AuthFailureLimiter } from './auth-failures';
import { hasBody, readBody } from './body-reader';
import { auditAuthFailureBursts } from '../audit/auth-bursts';
import type { HttpDeps } from './deps';
import { errorHandler } from './errors';
import { routeTable, type RouteDef } from './route-table';
import { SiteMacKeys } from './site-mac-keys';
import { studyScopeGuard } from './study-scope';

type Authed = Request & { principal?: Principal; bodyCheck?: BodyCheck };

/**
 * Builds the coordinator's express application from the route table. Every route runs the same pipeline, cheapest
 * first, so nothing an anonymous client sends costs more than its headers:
 *   encoding and media type → failure limiter → credentials from the headers (token, or site + fresh timestamp, and
 *   the signature or MAC over the body digest header) → per-caller admission → upload gate (authenticated uploads only) →
 *   body read (size bound from the route, Content-Length checked first, minimum rate) → body checked against the
 *   signed digest → study scope (a researcher reads only its studies' federations, versions and studies) → handler.
 * A request refused before its body is read is answered with `Connection: close` and not drained (see errors.ts).
 */
export function createApp(deps: HttpDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Behind a TLS-terminating reverse proxy, req.ip is the X-Forwarded-For address the listed proxies vouch for;
  // by default nobody is trusted and req.ip is the TCP peer.
  app.set('trust proxy', deps.config.trustProxy ?? false);
  app.use(helmet());
  app.use(refuseWhileDraining(deps));
  const limiter =
    deps.authFailures ??
    new AuthFailureLimiter({
      maxFailures: deps.config.maxAuthFailuresPerMinute,
      windowMs: 60_000,
      now: deps.now,
      onTrip: auditAuthFailureBursts({ store: deps.store, now: deps.now, logger: deps.logger }),
      onCountError: (err) => deps.logger.warn({ err }, 'failed authentication not counted'),
    });
  const admission = new Admission({
    maxPerPrincipal: deps.config.maxRequestsPerPrincipal,
    maxAnonymousPerAddress: deps.config.maxAnonymousRequestsPerAddress,
  });
  const auth: AuthOptions = {
    store: deps.store,
    requestWindowMs: deps.config.requestWindowMs,
    now: deps.now,
    macKeys: deps.macKeys ?? new SiteMacKeys(deps.identity),
    ...(deps.presence ? { presence: deps.presence } : {}),
  };
  const body = { minBytesPerSecond: deps.config.minBodyBytesPerSecond, graceMs: deps.config.bodyRateGraceMs };
  for (const route of routeTable(deps)) {
    const enrollment = route.operation === api.enroll.post;
    const gate = route.body === 'binary' && deps.uploadGate ? [deps.uploadGate.middleware()] : [];
    app[route.method](
      route.path,
      refuseEncoding,
      contentType(route),
      limiter.gate({ roles: route.roles, authenticatesByBody: enrollment }),
      headerStage(route, auth, limiter),
      admission.middleware((req) => (req as Authed).principal ?? { kind: 'public' }),
      ...gate,
      readBody({ limit: route.body === 'binary' ? deps.config.maxUpdateBytes : deps.config.maxJsonBytes, ...body }),
      bodyStage(auth, limiter),
      ...(enrollment ? [limiter.enrollmentToken()] : []),
      ...studyScopeGuard(route, deps),
      route.handler,
    );
  }
  app.use((_req: Request, _res: Response, next: NextFunction) => next(new TwinfedError('NOT_FOUND')));
  app.use(limiter.countFailures());
  app.use(errorHandler(deps.logger));
  return app;
}

/** During shutdown every new request but liveness gets 503 NOT_READY (and the connection is closed). */
function refuseWhileDraining(deps: HttpDeps) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!deps.draining?.() || req.path === '/healthz') return next();
    res.setHeader('Retry-After', '5');
    next(new TwinfedError('NOT_READY', 'The coordinator is shutting down; retry shortly.'));
  };
}

/**
 * Bodies are taken as sent: no client of twinfed compresses them, signatures cover the bytes on the wire, and
 * inflating before authentication would hand anyone a decompression bomb. Any Content-Encoding but identity: 415.
 */
function refuseEncoding(req: Request, _res: Response, next: NextFunction): void {
  const encoding = req.headers['content-encoding'];
  if (encoding === undefined || encoding.trim().toLowerCase() === 'identity') return next();
  next(new TwinfedError('UNSUPPORTED_MEDIA_TYPE', 'Content-Encoding is not supported; send the body uncompressed.'));
}

function contentType(route: RouteDef) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (route.method === 'get') return next();
    const want = route.body === 'binary' ? BINARY_MEDIA_TYPE : 'application/json';
    if (hasBody(req) && !req.is(want)) return next(new TwinfedError('UNSUPPORTED_MEDIA_TYPE', `Expected ${want}.`));
    next();
  };
}

function headerStage(route: RouteDef, auth: AuthOptions, limiter: AuthFailureLimiter) {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const r = await authenticateHeaders(req, route.roles, { ...auth, requireDigest: route.body === 'binary' });
      (req as Authed).principal = r.principal;
      (req as Authed).bodyCheck = r.body;
    } catch (e) {
      throw await limiter.escalate(req, res, e);
    }
    next();
  };
}

function bodyStage(auth: AuthOptions, limiter: AuthFailureLimiter) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const check = (req as Authed).bodyCheck ?? { kind: 'none' };
    const bytes: unknown = req.body;
    try {
      await authenticateBody(
        req,
        check,
        Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Uint8Array(0),
        auth,
      );
    } catch (e) {
      throw await limiter.escalate(req, res, e);
    }
    next();
  };
}
