import type { Request, Response } from 'express';
import { TwinfedError } from '@twinfed/shared';
import type { HttpDeps } from '../deps';

/** Liveness (the process answers) and readiness (the database takes a write, keys are loaded; and how push works). */
export function healthHandlers(deps: HttpDeps) {
  return {
    live: async (_req: Request, res: Response) => {
      res.json({ status: 'ok' });
    },
    ready: async (_req: Request, res: Response) => {
      if (deps.draining?.()) throw new TwinfedError('NOT_READY', 'The coordinator is shutting down.');
      const writable = await deps.store.health().catch(() => false);
      if (!writable || deps.identity.sign.secretKey.length !== 64) throw new TwinfedError('NOT_READY');
      // Push through Redis is an optimisation (sites poll anyway): a replica without Redis stays ready, and says so.
      res.json({ status: 'ready', push: deps.pushMode?.() ?? 'local' });
    },
  };
}
