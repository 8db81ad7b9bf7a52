import type { IncomingMessage, ServerResponse } from 'node:http';
import { TwinfedError, clientBehaviour, isTwinfedError } from '@twinfed/shared';

/** Sends a JSON body. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/**
 * Sends an error as `{error: {code, message}}` with the code's status; unknown errors become a public `INTERNAL`.
 * Codes the error table makes `retry-later` carry a `Retry-After` header.
 */
export function sendError(res: ServerResponse, e: unknown, retryAfterSeconds: number): void {
  const err = isTwinfedError(e) ? e : new TwinfedError('INTERNAL');
  const headers: Record<string, string> = {};
  if (clientBehaviour(err.code) === 'retry-later') headers['retry-after'] = String(retryAfterSeconds);
  if (err.code === 'UNAUTHENTICATED') headers['www-authenticate'] = 'Bearer realm="twinfed-site"';
  if (res.headersSent) return void res.end();
  sendJson(res, err.status, err.toBody(), headers);
}

/**
 * Reads a JSON request body of at most `limit` bytes. Throws `PAYLOAD_TOO_LARGE` (the rest of the body is
 * drained, not stored), `UNSUPPORTED_MEDIA_TYPE` for a non-JSON content type, `INVALID_JSON` for bad JSON.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && type !== 'application/fhir+json') {
    req.resume();
    throw new TwinfedError('UNSUPPORTED_MEDIA_TYPE', 'Send JSON (application/json or application/fhir+json).');
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new TwinfedError('PAYLOAD_TOO_LARGE', `The body is larger than ${limit} bytes.`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) tooLarge = true;
    if (!tooLarge) chunks.push(chunk);
  }
  if (tooLarge) throw new TwinfedError('PAYLOAD_TOO_LARGE', `The body is larger than ${limit} bytes.`);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new TwinfedError('INVALID_JSON');
  }
}
