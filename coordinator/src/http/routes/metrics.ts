import type { Request, Response } from 'express';
import type { HttpDeps } from '../deps';

/** `GET /metrics`: the coordinator's metrics in the Prometheus text format (operator, researcher); see docs/metrics.md. */
export function metricsHandlers(deps: HttpDeps) {
  return {
    get: async (_req: Request, res: Response) => {
      const { registry } = deps.engine.metrics;
      res.type(registry.contentType).send(await registry.metrics());
    },
  };
}
