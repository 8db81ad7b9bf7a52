#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { machineMeta, writeResults } from '../report';
import { FLAMBY_SEEDS } from './published';
import { flambyJson, flambyMarkdown } from './report';
import { ALL_KEYS, runFlambyBench } from './run';
import { runMain } from '../../support/main';

interface Flags {
  seeds: number[];
  strategies: string[];
  quick?: boolean;
  out?: string;
}

const seedList = (v: string): number[] => {
  const seeds = v.split(',').map((s) => Number(s.trim()));
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0))
    throw new InvalidArgumentError('seeds are non-negative integers, comma-separated');
  return seeds;
};

const keyList = (v: string): string[] => {
  if (v.trim() === 'all') return [...ALL_KEYS];
  const keys = v
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const bad = keys.filter((k) => !ALL_KEYS.includes(k));
  if (bad.length)
    throw new InvalidArgumentError(`unknown: ${bad.join(', ')} (choose from all, ${ALL_KEYS.join(', ')})`);
  return keys;
};

async function main(argv: string[]): Promise<void> {
  const flags = new Command('npm run bench:flamby --')
    .description(
      "FLamby's Fed-Heart-Disease benchmark through twinfed's own coordinator, site runner and trainer; our accuracy next to FLamby's published numbers. " +
        'A full run (all seeds, all methods) writes bench/results/flamby-heart.{md,json}; a partial run prints its table and writes only with --out.',
    )
    .option('--seeds <list>', 'benchmark seeds', seedList, [...FLAMBY_SEEDS])
    .option('--strategies <list>', `all, or a comma-separated subset of: ${ALL_KEYS.join(', ')}`, keyList, [
      ...ALL_KEYS,
    ])
    .option('--quick', 'one seed (the first of --seeds)')
    .option('--out <name>', 'write bench/results/<name>.{md,json} (default for a full run: flamby-heart)')
    .parse(argv)
    .opts<Flags>();
  const seeds = flags.quick ? flags.seeds.slice(0, 1) : flags.seeds;
  const full =
    !flags.quick && FLAMBY_SEEDS.every((s) => seeds.includes(s)) && ALL_KEYS.every((k) => flags.strategies.includes(k));
  const result = await runFlambyBench({ seeds, keys: flags.strategies, log: (l) => process.stdout.write(`${l}\n`) });
  const meta = {
    ...machineMeta(),
    mode: full ? 'full' : flags.quick ? 'quick' : 'partial',
    seeds: seeds.join(', '),
    runtime: `${result.seconds.toFixed(0)} s`,
  };
  const md = flambyMarkdown(result, meta);
  process.stdout.write(`\n${md}\n`);
  const name = flags.out ?? (full ? 'flamby-heart' : undefined);
  if (name) {
    const out = writeResults(name, flambyJson(result, meta), md);
    process.stdout.write(`written: ${out.md}, ${out.json}\n`);
  }
  const failed = result.rows.filter((r) => r.pass === false);
  if (failed.length && full) process.exitCode = 2;
}

runMain('bench:flamby', main);
