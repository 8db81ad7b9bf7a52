#!/usr/bin/env node
import { Command } from 'commander';
import { runLoad } from './load-run';
import { runMain } from '../support/main';

/**
 * `node tests/dist/load/cli.js --sites 500 --rounds 5 [--secure] [--shared-address]`: one load run; prints its result as
 * one JSON line.
 */
async function main(argv: string[]): Promise<void> {
  const flags = new Command('load')
    .option('--sites <n>', 'simulated sites', (v) => Number(v), 500)
    .option('--rounds <n>', 'rounds', (v) => Number(v), 5)
    .option('--secure', 'secure aggregation (SecAgg+ graph where it pays off)')
    .option('--site-processes <n>', 'processes simulating the sites, a slice each (default: one per core)', (v) =>
      Number(v),
    )
    .option(
      '--shared-address',
      'every simulated site connects from 127.0.0.1 (default: each from its own loopback address)',
    )
    .parse(argv)
    .opts<{ sites: number; rounds: number; secure?: boolean; siteProcesses?: number; sharedAddress?: boolean }>();
  const result = await runLoad({
    sites: flags.sites,
    rounds: flags.rounds,
    secure: flags.secure ?? false,
    ...(flags.siteProcesses ? { siteProcesses: flags.siteProcesses } : {}),
    ...(flags.sharedAddress ? { sharedAddress: true } : {}),
    log: (line) => void process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

runMain('load', main);
