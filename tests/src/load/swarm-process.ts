#!/usr/bin/env node
import path from 'node:path';
import { loadEnrollment } from '@twinfed/site-client';
import { runMain } from '../support/main';
import { countingFetch } from './request-counter';
import { runSwarm } from './swarm';
import type { SwarmSliceJob, SwarmSliceResult } from './swarm-processes';

/**
 * `node tests/dist/load/swarm-process.js '<SwarmSliceJob as JSON>'`: runs the sites `from` … `to − 1` of a load run
 * (enrolled by the parent under `dir/site-i`) with {@link runSwarm} in this process, and prints a
 * {@link SwarmSliceResult} as its last line.
 */
async function main(argv: string[]): Promise<void> {
  const job = JSON.parse(argv[2] ?? '') as SwarmSliceJob;
  const ids = Array.from({ length: job.to - job.from }, (_, i) => job.from + i);
  const enrollments = ids.map((i) => loadEnrollment(path.join(job.dir, `site-${i}`)));
  const counter = countingFetch();
  const cpu0 = process.cpuUsage();
  const swarm = await runSwarm({
    enrollments,
    federationId: job.federationId,
    baseUrl: job.baseUrl,
    dir: job.dir,
    fetch: counter.fetch,
    firstSite: job.from,
    ...(job.ownAddresses ? { ownAddresses: true } : {}),
    ...(job.features ? { features: job.features } : {}),
    ...(job.dropEvery ? { drops: (i: number) => i % job.dropEvery! === job.dropEvery! - 1 } : {}),
  });
  const cpu = process.cpuUsage(cpu0);
  const result: SwarmSliceResult = {
    ...swarm,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    rssMiB: process.memoryUsage.rss() / 1024 / 1024,
    requests: Object.fromEntries(counter.counts),
    failedRequests: Object.fromEntries(counter.failures),
    answerBytes: Object.fromEntries(counter.bytes),
  };
  process.stdout.write(`${JSON.stringify({ swarmSlice: result })}\n`);
  // Every site runner closes its event stream and clears its timers when run() ends, so this process exits by itself.
  // If something still holds the event loop, name it and fail the run rather than hang the benchmark or hide a leak.
  setTimeout(() => {
    process.stderr.write(`still running 30 s after the result: ${process.getActiveResourcesInfo().join(', ')}\n`);
    process.exit(1);
  }, 30_000).unref();
}

runMain('swarm-process', main);
