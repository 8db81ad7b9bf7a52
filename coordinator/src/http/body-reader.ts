import type { NextFunction, Request, Response } from 'express';
import getRawBody from 'raw-body';
import { TwinfedError } from '@twinfed/shared';

/** Options of {@link readBody}. */
interface BodyReaderOptions {
  /** Largest body of the route, in bytes. */
  limit: number;
  /** After `graceMs`, a body that has averaged fewer bytes per second since it started is cut with 408 (0: off). */
  minBytesPerSecond: number;
  graceMs: number;
}

/** True when the request announces a body (a Content-Length above 0, or chunked transfer). */
export function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * Reads the raw body (signatures cover the bytes) into `req.body` as a Buffer, with the route's size bound. A declared
 * `Content-Length` over the bound is refused (413) before a byte is read; the error handler then closes the connection
 * instead of draining it. A body that trickles below the minimum rate after the grace period is cut (408, closed).
 * Must run after authentication of the headers: only admitted callers reach it.
 */
export function readBody(opts: BodyReaderOptions) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    if (!hasBody(req)) {
      req.body = Buffer.alloc(0);
      return next();
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && !(Number(declared) <= opts.limit))
      throw new TwinfedError('PAYLOAD_TOO_LARGE', undefined, { details: { limit: opts.limit } });
    req.body = await withMinimumRate(
      req,
      opts,
      getRawBody(req, { limit: opts.limit, ...(declared !== undefined ? { length: declared } : {}) }),
    );
    next();
  };
}

/** `reading`, or REQUEST_TIMEOUT once the body has averaged under the minimum rate after the grace period. */
function withMinimumRate(req: Request, opts: BodyReaderOptions, reading: Promise<Buffer>): Promise<Buffer> {
  if (opts.minBytesPerSecond <= 0) return reading;
  let received = 0;
  const onData = (chunk: Buffer) => {
    received += chunk.length;
  };
  req.on('data', onData); // raw-body has already put the stream in flowing mode; this only counts
  const started = performance.now(); // wall time, not the coordinator's (injectable) clock
  let timer: NodeJS.Timeout | undefined;
  const tooSlow = new Promise<never>((_resolve, reject) => {
    const check = () => {
      const seconds = (performance.now() - started) / 1000;
      if (received < opts.minBytesPerSecond * seconds) {
        req.pause();
        reject(new TwinfedError('REQUEST_TIMEOUT', `The body arrived slower than ${opts.minBytesPerSecond} bytes/s.`));
        return;
      }
      timer = setTimeout(check, 1000);
    };
    timer = setTimeout(check, opts.graceMs);
  });
  reading.catch(() => undefined); // settled either way; a late failure after a 408 is not unhandled
  return Promise.race([reading, tooSlow]).finally(() => {
    clearTimeout(timer);
    req.off('data', onData);
  });
}
