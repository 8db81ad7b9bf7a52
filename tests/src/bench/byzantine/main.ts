#!/usr/bin/env node
import fs from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { machineMeta, writeResults } from '../report';
import { FLAMBY_SITES } from '../flamby/consortium';
import { FLAMBY_SEEDS } from '../flamby/published';
import { ATTACKS } from './attacks';
import { CONFIGS } from './configs';
import { byzantineMarkdown, summarise } from './report';
import { runByzantineBench, type ByzantineRun, type Scenario } from './run';
import { runMain } from '../../support/main';

interface Flags {
  seeds: number[];
  configs: string[];
  attacks: Scenario[];
  attacker: number;
  rounds?: number;
  out?: string;
  include: string[];
  ceiling: boolean;
}

const seedList = (v: string): number[] => {
  const seeds = v.split(',').map((s) => Number(s.trim()));
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0))
    throw new InvalidArgumentError('seeds are non-negative integers, comma-separated');
  return seeds;
};

const pick =
  <T extends string>(all: readonly T[]) =>
  (v: string): T[] => {
    const keys = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = keys.filter((k) => !all.includes(k as T));
    if (bad.length || !keys.length)
      throw new InvalidArgumentError(`unknown: ${bad.join(', ') || '(none)'} (choose from ${all.join(', ')})`);
    return keys as T[];
  };

const centre = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 3) throw new InvalidArgumentError('a FLamby centre, 0–3');
  return n;
};

const positive = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
};

const SCENARIOS: readonly Scenario[] = ['none', ...ATTACKS];

async function main(argv: string[]): Promise<void> {
  const flags = new Command('npm run bench:byzantine --')
    .description(
      "One malicious site of four (Fed-Heart-Disease, FLamby split) against FedAvg, FedAvg + clipping, median, trimmed mean, Krum, Multi-Krum, geometric median and centered clipping, through the product's coordinator and site runners. " +
        'A full run (5 seeds, every configuration and attack, 15 rounds) writes bench/results/byzantine.{md,json}; a partial run prints its table and writes only with --out.',
    )
    .option('--seeds <list>', 'benchmark seeds', seedList, [...FLAMBY_SEEDS])
    .option(
      '--configs <list>',
      `comma-separated subset of: ${CONFIGS.map((c) => c.key).join(', ')}`,
      pick(CONFIGS.map((c) => c.key)),
      CONFIGS.map((c) => c.key),
    )
    .option(
      '--attacks <list>',
      `comma-separated subset of: ${SCENARIOS.join(', ')} (none = the clean run)`,
      pick(SCENARIOS),
      [...SCENARIOS],
    )
    .option('--attacker <centre>', 'the malicious FLamby centre (0 Cleveland, the largest, … 3 VA)', centre, 0)
    .option('--rounds <n>', "rounds per federation (default 15, FLamby's)", positive)
    .option(
      '--out <name>',
      'write bench/results/<name>.{md,json} (default for a full run: byzantine); rewritten after every seed',
    )
    .option(
      '--include <file>',
      'add the runs of an earlier result JSON of this bench (same attacker and rounds), e.g. seeds run separately; repeatable',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option(
      '--no-ceiling',
      'skip the ceiling reference (FedAvg with the attacker taking no part: what a rule that always drops it reaches)',
    )
    .parse(argv)
    .opts<Flags>();
  const configs = CONFIGS.filter((c) => flags.configs.includes(c.key));
  const scenarios = SCENARIOS.filter((s) => flags.attacks.includes(s));
  if (!configs.some((c) => c.key === 'fedavg') || !scenarios.includes('none'))
    process.stderr.write(
      'note: without clean FedAvg (--configs fedavg, --attacks none) there is no reference to compare with\n',
    );
  const earlier = flags.include.map((f) => readEarlier(f, flags.attacker, flags.rounds ?? 15));
  const earlierSeeds = new Set(earlier.flatMap((e) => e.runs.map((r) => r.seed)));
  const seeds = flags.seeds.filter((s) => !earlierSeeds.has(s));
  const earlierCeiling = new Set(
    earlier.flatMap((e) => e.runs.filter((r) => r.scenario === 'excluded').map((r) => r.seed)),
  );
  const ceilingSeeds = flags.ceiling ? flags.seeds.filter((s) => !earlierCeiling.has(s)) : [];
  const allSeeds = (done: readonly number[]) => [...new Set([...earlierSeeds, ...done])].sort((a, b) => a - b);
  const isFull = (done: readonly number[]) =>
    FLAMBY_SEEDS.every((s) => allSeeds(done).includes(s)) &&
    configs.length === CONFIGS.length &&
    scenarios.length === SCENARIOS.length &&
    flags.rounds === undefined;
  const name = flags.out ?? (isFull(seeds) ? 'byzantine' : undefined);
  const started = Date.now();
  const report = (
    done: { runs: readonly ByzantineRun[]; honestNorms: readonly number[]; seeds: readonly number[] },
    final: boolean,
  ): string => {
    const runs = [...earlier.flatMap((e) => e.runs), ...done.runs];
    const summary = summarise(runs, configs, scenarios);
    const norms = [...earlier.flatMap((e) => e.honestNorms), ...done.honestNorms].sort((a, b) => a - b);
    const q = (p: number) => norms[Math.min(norms.length - 1, Math.floor(p * norms.length))]!;
    const clipNorms = norms.length
      ? { median: q(0.5), p90: q(0.9), max: norms[norms.length - 1]!, count: norms.length }
      : undefined;
    const full = isFull(done.seeds);
    const meta = {
      ...machineMeta(),
      mode: full ? 'full' : final ? 'partial' : 'partial (run in progress)',
      seeds: allSeeds(done.seeds).join(', '),
      rounds: String(flags.rounds ?? 15),
      attacker: `centre ${flags.attacker} (${FLAMBY_SITES[flags.attacker]!.name})`,
      runtime: `${((Date.now() - started) / 1000).toFixed(0)} s${earlier.length ? ` (plus ${flags.include.join(', ')})` : ''}`,
    };
    const md = byzantineMarkdown({
      summary,
      configs,
      scenarios,
      meta,
      attackerName: FLAMBY_SITES[flags.attacker]!.name,
      clipNorms,
    });
    if (name) {
      const out = writeResults(name, { meta, summary, honestUpdateNorms: clipNorms, honestNorms: norms, runs }, md);
      process.stdout.write(`written: ${out.md}, ${out.json}\n`);
    }
    return md;
  };
  const result = await runByzantineBench({
    seeds,
    configs,
    scenarios,
    attacker: flags.attacker,
    ceilingSeeds,
    rounds: flags.rounds,
    log: (l) => process.stdout.write(`${l}\n`),
    onSeed: (done) => void report(done, false),
  });
  process.stdout.write(`\n${report({ ...result, seeds }, true)}\n`);
}

/** The runs and honest norms of an earlier result JSON of this bench; refuses one of another attacker or round count. */
function readEarlier(file: string, attacker: number, rounds: number): { runs: ByzantineRun[]; honestNorms: number[] } {
  const data = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    meta?: { rounds?: string };
    runs?: ByzantineRun[];
    honestNorms?: number[];
  };
  if (!Array.isArray(data.runs)) throw new InvalidArgumentError(`${file}: no runs`);
  if (data.meta?.rounds !== String(rounds))
    throw new InvalidArgumentError(`${file}: ran ${data.meta?.rounds ?? '?'} rounds, not ${rounds}`);
  if (data.runs.some((r) => r.attacker !== null && r.attacker !== attacker))
    throw new InvalidArgumentError(`${file}: another attacker centre`);
  return { runs: data.runs, honestNorms: data.honestNorms ?? [] };
}

runMain('bench:byzantine', main);
