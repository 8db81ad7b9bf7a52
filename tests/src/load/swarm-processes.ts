import path from 'node:path';
import { jsonLine, startNode, stop, type Child } from '../support/processes';
import type { SiteSlice } from './site-slices';
import type { SwarmOutcome } from './swarm';

/** What a swarm process runs: a slice of the enrolled sites (keys and journals under `dir/site-i`). */
export interface SwarmSliceJob extends SiteSlice {
  dir: string;
  federationId: string;
  baseUrl: string;
  features?: string[];
  /** Every `dropEvery`-th site of the whole run (by its index, not its place in the slice) drops out after masking. */
  dropEvery?: number;
  /** Each site connects from its own loopback address (see `runSwarm`). */
  ownAddresses?: boolean;
}

/** What a swarm process saw, with its CPU and memory and its sites' requests by route. */
export interface SwarmSliceResult extends SwarmOutcome {
  cpuSeconds: number;
  rssMiB: number;
  requests: Record<string, number>;
  failedRequests: Record<string, number>;
  /** The 2xx answers' body bytes by route. */
  answerBytes: Record<string, number>;
}

const add = (into: Map<string, number>, from: Record<string, number>) => {
  for (const [k, v] of Object.entries(from)) into.set(k, (into.get(k) ?? 0) + v);
};

/**
 * Runs each slice of the sites in a process of its own (`swarm-process`), all at once, and merges what they saw:
 * the simulated sites then use every core, as real sites run side by side, instead of taking turns on one thread.
 */
export async function runSwarmProcesses(
  o: Omit<SwarmSliceJob, 'from' | 'to'> & {
    slices: readonly SiteSlice[];
    /** Node options of every swarm process (e.g. `--cpu-prof`). */
    nodeArgs?: string[];
  },
): Promise<
  SwarmOutcome & {
    cpuSeconds: number;
    rssMiB: number;
    counts: Map<string, number>;
    failures: Map<string, number>;
    bytes: Map<string, number>;
  }
> {
  const { slices, nodeArgs = [], ...job } = o;
  const children: Child[] = slices.map((s) =>
    startNode({
      name: `swarm ${s.from}–${s.to - 1}`,
      nodeArgs,
      script: path.join(__dirname, 'swarm-process.js'),
      args: [JSON.stringify({ ...job, from: s.from, to: s.to } satisfies SwarmSliceJob)],
      env: { TWINFED_LOG_LEVEL: 'warn' },
    }),
  );
  try {
    const results = await Promise.all(
      children.map(async (child) => {
        const code = await child.exited;
        const line = child.lines.map(jsonLine).find((j) => j?.swarmSlice !== undefined);
        if (code !== 0 || !line)
          throw new Error(`${child.name} failed (exit ${code}):\n${child.lines.slice(-20).join('\n')}`);
        return line.swarmSlice as SwarmSliceResult;
      }),
    );
    const counts = new Map<string, number>();
    const failures = new Map<string, number>();
    const bytes = new Map<string, number>();
    for (const r of results) {
      add(counts, r.requests);
      add(failures, r.failedRequests);
      add(bytes, r.answerBytes);
    }
    return {
      summaries: results.flatMap((r) => r.summaries),
      errors: results.flatMap((r) => r.errors),
      uploads: results.reduce((n, r) => n + r.uploads, 0),
      evaluations: results.reduce((n, r) => n + r.evaluations, 0),
      socketConnects: results.reduce((n, r) => n + r.socketConnects, 0),
      socketConnectErrors: results.reduce((n, r) => n + r.socketConnectErrors, 0),
      cpuSeconds: results.reduce((n, r) => n + r.cpuSeconds, 0),
      rssMiB: results.reduce((n, r) => n + r.rssMiB, 0),
      counts,
      failures,
      bytes,
    };
  } finally {
    await Promise.all(children.map((c) => stop(c, 5000)));
  }
}
