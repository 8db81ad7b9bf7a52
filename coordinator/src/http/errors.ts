import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import { TwinfedError, type Logger } from '@twinfed/shared';

/** Turns anything thrown into the one error class; body-reader, router (malformed path) and zod errors get their stable codes. */
export function toTwinfedError(err: unknown): TwinfedError {
  if (err instanceof TwinfedError) return err;
  if (err instanceof ZodError) {
    const details = err.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message }));
    return new TwinfedError('VALIDATION_FAILED', undefined, { details });
  }
  const type = (err as { type?: string } | null)?.type;
  if (type === 'entity.too.large') return new TwinfedError('PAYLOAD_TOO_LARGE');
  if (type === 'entity.parse.failed') return new TwinfedError('INVALID_JSON');
  if (type === 'request.size.invalid')
    return new TwinfedError('BAD_REQUEST', 'The body is not the length its Content-Length says.');
  if (type === 'request.aborted')
    return new TwinfedError('BAD_REQUEST', 'The client closed the request before its body arrived.');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported')
    return new TwinfedError('UNSUPPORTED_MEDIA_TYPE');
  // express's router decodes path parameters and throws a URIError on malformed percent-encoding (`%E0%A4%A`).
  if (err instanceof URIError) return new TwinfedError('BAD_REQUEST', 'The path is not valid percent-encoding.');
  return new TwinfedError('INTERNAL', undefined, { cause: err });
}

/** True when the client went away before its request was read: nothing to answer, nothing wrong with the server. */
function clientAborted(err: unknown, req: { socket: { destroyed: boolean } }): boolean {
  const e = err as { type?: string; code?: string } | null;
  return (
    e?.type === 'request.aborted' || e?.code === 'ECONNRESET' || e?.code === 'ECONNABORTED' || req.socket.destroyed
  );
}

/**
 * The one error handler: a stable code and a public message; internals go to the log, never to the client. A request
 * refused before its body was read is answered with `Connection: close`: node then closes the connection after the
 * answer instead of draining the body (so a declared 100 MB costs nothing). Client aborts are logged at info.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const entry = { method: req.method, path: req.path, site: req.header('x-twinfed-site') };
    if (clientAborted(err, req)) {
      logger.info(entry, 'client aborted the request');
      return;
    }
    const e = toTwinfedError(err);
    if (e.status >= 500)
      logger.error({ ...entry, code: e.code, status: e.status, err: e.cause ?? e }, 'request failed');
    else logger.warn({ ...entry, code: e.code, status: e.status }, 'request rejected');
    if (res.headersSent) return;
    if (!req.complete) res.setHeader('Connection', 'close');
    res.status(e.status).json(e.toBody());
  };
}
