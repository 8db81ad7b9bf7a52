import type { Request, Response } from 'express';
import { openApiDocument } from '@twinfed/shared';

/** `GET /openapi.json` (public): the API's OpenAPI 3.1 document, generated from the shared contract once, on first use. */
export function openApiHandlers() {
  let body: string | undefined;
  return {
    get: async (_req: Request, res: Response) => {
      body ??= JSON.stringify(openApiDocument());
      res.type('application/json').send(body);
    },
  };
}
