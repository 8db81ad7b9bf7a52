import type { Request, Response } from 'express';
import type { HttpDeps } from '../deps';

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** `GET /metrics`: the engine's counters in the Prometheus text format (operator, researcher). */
export function metricsHandlers(deps: HttpDeps) {
  return {
    get: async (_req: Request, res: Response) => {
      const m = deps.engine.metrics;
      const lines: string[] = [
        '# HELP twinfed_uploads_total Update uploads by outcome (late: the round had closed; overloaded: refused with 503).',
        '# TYPE twinfed_uploads_total counter',
        ...Object.entries(m.uploads).map(([k, v]) => `twinfed_uploads_total{outcome="${k}"} ${v}`),
        '# HELP twinfed_rounds_total Rounds closed by this process, by outcome.',
        '# TYPE twinfed_rounds_total counter',
        ...Object.entries(m.rounds).map(([k, v]) => `twinfed_rounds_total{outcome="${k}"} ${v}`),
        '# HELP twinfed_round_seconds Recent round durations, open to close.',
        '# TYPE twinfed_round_seconds summary',
      ];
      const sorted = [...m.roundSeconds].sort((a, b) => a - b);
      for (const q of [0.5, 0.95]) lines.push(`twinfed_round_seconds{quantile="${q}"} ${quantile(sorted, q)}`);
      lines.push(`twinfed_round_seconds_count ${sorted.length}`);
      lines.push(
        '# HELP twinfed_recoveries_total Federations retried from their stored state after an error.',
        '# TYPE twinfed_recoveries_total counter',
        `twinfed_recoveries_total ${m.recoveries}`,
      );
      lines.push(
        '# HELP twinfed_uploads_in_flight Uploads admitted and not yet answered.',
        '# TYPE twinfed_uploads_in_flight gauge',
        `twinfed_uploads_in_flight ${deps.uploadGate?.inFlight ?? 0}`,
      );
      lines.push(
        '# HELP twinfed_uploads_queued Uploads waiting for a verification slot.',
        '# TYPE twinfed_uploads_queued gauge',
        `twinfed_uploads_queued ${deps.engine.queuedUploads}`,
      );
      lines.push(
        '# HELP twinfed_sites_connected Site sockets connected.',
        '# TYPE twinfed_sites_connected gauge',
        `twinfed_sites_connected ${deps.connectedSites?.() ?? 0}`,
      );
      lines.push(
        '# HELP process_resident_memory_bytes Resident memory size.',
        '# TYPE process_resident_memory_bytes gauge',
        `process_resident_memory_bytes ${process.memoryUsage.rss()}`,
      );
      res.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
    },
  };
}
