import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import { TwinfedError } from '@twinfed/shared';
import type { Logger } from '../logger';

/** Turns anything thrown into the one error class; body-parser and zod errors get their stable codes. */
export function toTwinfedError(err: unknown): TwinfedError {
  if (err instanceof TwinfedError) return err;
  if (err instanceof ZodError) {
    const details = err.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message }));
    return new TwinfedError('VALIDATION_FAILED', undefined, { details });
  }
  const type = (err as { type?: string } | null)?.type;
  if (type === 'entity.too.large') return new TwinfedError('PAYLOAD_TOO_LARGE');
  if (type === 'entity.parse.failed') return new TwinfedError('INVALID_JSON');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return new TwinfedError('UNSUPPORTED_MEDIA_TYPE');
  return new TwinfedError('INTERNAL', undefined, { cause: err });
}

/** The one error handler: a stable code and a public message; internals go to the log, never to the client. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e = toTwinfedError(err);
    const entry = { code: e.code, status: e.status, method: req.method, path: req.path, site: req.header('x-twinfed-site') };
    if (e.status >= 500) logger.error({ ...entry, err: e.cause ?? e }, 'request failed');
    else logger.warn(entry, 'request rejected');
    if (!res.headersSent) res.status(e.status).json(e.toBody());
  };
}
