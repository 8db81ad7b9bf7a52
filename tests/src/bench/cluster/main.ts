#!/usr/bin/env node
/**
 * `npm run bench:cluster [-- --sites 2000 --rounds 3]`: the same federation against 1 and 3 coordinator replicas
 * (PostgreSQL TWINFED_TEST_PG_URL, Redis TWINFED_TEST_REDIS_URL) in one run; writes bench/results/cluster.{json,md}.
 */
import os from 'node:os';
import { Command } from 'commander';
import { loadAverage, machineMeta, toMarkdown, writeResults } from '../report';
import { runMain } from '../../support/main';
import { runClusterConfig, type ClusterRunResult } from './cluster-run';
import { clusterTables } from './cluster-report';

const MACHINE_NOTE =
  'The replicas, the proxy, the process simulating every site, PostgreSQL and Redis all share the same cores (see cpus). Three replicas therefore cannot be faster than one here: the run shows whether a federation on three replicas is correct (every round published with every site; the error counts) and what the replication costs in CPU, sessions and commits, not a speed-up. Other helpers use the same machine and PostgreSQL server during the run (see loadavg and the background commit rate).';

runMain('bench:cluster', async (argv) => {
  const flags = new Command('bench:cluster')
    .option('--sites <n>', 'simulated sites', (v) => Number(v), 2000)
    .option('--rounds <n>', 'rounds per configuration', (v) => Number(v), 3)
    .option('--replicas <list>', 'replica counts, compared with the first', (v) => v.split(',').map(Number), [1, 3])
    .parse(argv)
    .opts<{ sites: number; rounds: number; replicas: number[] }>();
  const pgUrl = process.env.TWINFED_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const redisUrl = process.env.TWINFED_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const log = (line: string) => void process.stderr.write(`${line}\n`);
  const started = Date.now();
  const loadBefore = loadAverage();
  const results: ClusterRunResult[] = [];
  // Written after every configuration: a run cut short still leaves what it measured.
  const write = () => {
    const meta = {
      ...machineMeta(),
      memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
      loadavg: `${loadBefore} before, ${loadAverage()} after`,
      'total s': ((Date.now() - started) / 1000).toFixed(0),
      configurations: `${results.length} of ${flags.replicas.length} measured (${flags.replicas.join(', ')} replicas)`,
      machine: MACHINE_NOTE,
    };
    const md = toMarkdown('twinfed cluster', meta, clusterTables(results));
    const out = writeResults(
      'cluster',
      { meta, results: results.map((r) => ({ ...r, errors: r.errors.slice(0, 20), errorCount: r.errors.length })) },
      md,
    );
    return { md, out };
  };
  for (const replicas of flags.replicas) {
    log(`cluster: ${replicas} replica(s), ${flags.sites} sites × ${flags.rounds} rounds…`);
    const r = await runClusterConfig({ replicas, sites: flags.sites, rounds: flags.rounds, pgUrl, redisUrl, log });
    if (r.errors.length > 0) log(`cluster: ${r.errors.length} errors, e.g. ${r.errors.slice(0, 3).join('; ')}`);
    results.push(r);
    write();
  }
  const { md, out } = write();
  process.stdout.write(`${md}\nwritten: ${out.json}, ${out.md}\n`);
});
