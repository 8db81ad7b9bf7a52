import type { Request } from 'express';
import type { z } from 'zod';
import { IdSchema, TwinfedError } from '@twinfed/shared';

/** The raw request body as bytes (every route reads raw bytes: site signatures cover them). */
export function rawBody(req: Request): Uint8Array {
  const body: unknown = req.body;
  if (Buffer.isBuffer(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  return new Uint8Array(0);
}

/** Parses and validates a JSON body against a schema (INVALID_JSON / VALIDATION_FAILED). */
export function jsonBody<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  const bytes = rawBody(req);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new TwinfedError('INVALID_JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw parsed.error;
  return parsed.data;
}

/** A route parameter that must be an identifier (`IdSchema`). */
export function idParam(req: Request, name: string): string {
  const parsed = IdSchema.safeParse(req.params[name]);
  if (!parsed.success) throw new TwinfedError('NOT_FOUND');
  return parsed.data;
}

/** A route parameter that must be a positive integer. */
export function intParam(req: Request, name: string): number {
  const v = req.params[name];
  if (typeof v !== 'string' || !/^[1-9][0-9]{0,8}$/.test(v)) throw new TwinfedError('UNKNOWN_ROUND');
  return Number(v);
}
