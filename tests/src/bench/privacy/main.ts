#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { machineMeta, writeResults } from '../report';
import { startBenchConsortium } from '../flamby/consortium';
import { FLAMBY_SEEDS } from '../flamby/published';
import { runMain } from '../../support/main';
import { AGGREGATIONS, PRIVACY_BENCH_EPSILONS, calibrate, type Aggregation } from './configs';
import { privacyJson, privacyMarkdown, summarisePrivacy, type PrivacyRun } from './report';
import { runPrivacyFederation } from './run';

interface Flags {
  seeds: number[];
  epsilons: (number | null)[];
  aggregation: Aggregation[];
  quick?: boolean;
  out?: string;
}

const seedList = (v: string): number[] => {
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (!xs.length || xs.some((x) => !Number.isInteger(x) || x < 0))
    throw new InvalidArgumentError('seeds are non-negative integers, comma-separated');
  return xs;
};
const epsilonList = (v: string): (number | null)[] =>
  v.split(',').map((s) => {
    const t = s.trim();
    if (t === 'inf' || t === '∞') return null;
    const x = Number(t);
    if (!(x > 0) || !Number.isFinite(x)) throw new InvalidArgumentError(`ε is a positive number or inf, not "${t}"`);
    return x;
  });
const aggregationList = (v: string): Aggregation[] => {
  const xs = v.split(',').map((s) => s.trim());
  const bad = xs.filter((x) => !AGGREGATIONS.includes(x as Aggregation));
  if (bad.length) throw new InvalidArgumentError(`unknown: ${bad.join(', ')} (choose from ${AGGREGATIONS.join(', ')})`);
  return xs as Aggregation[];
};

async function main(argv: string[]): Promise<void> {
  const flags = new Command('npm run bench:privacy --')
    .description(
      'The price of ε: FLamby FedAvg on Fed-Heart-Disease through the product at site-level DP ε ∈ {1, 3, 8, ∞} (δ = 1e-5, 15 rounds), ' +
        'with and without secure aggregation; pooled-test accuracy and AUC of the final version, mean ± sd over seeds. ' +
        'The default run writes bench/results/privacy-utility.{md,json}; any other run prints its table and writes only with --out.',
    )
    .option('--seeds <list>', 'benchmark seeds', seedList, [...FLAMBY_SEEDS])
    .option('--epsilons <list>', 'ε targets (inf: no DP)', epsilonList, [...PRIVACY_BENCH_EPSILONS])
    .option('--aggregation <list>', `subset of ${AGGREGATIONS.join(', ')}`, aggregationList, [...AGGREGATIONS])
    .option('--quick', 'one seed (the first of --seeds)')
    .option('--out <name>', 'write bench/results/<name>.{md,json} (default for the default run: privacy-utility)')
    .parse(argv)
    .opts<Flags>();
  const seeds = flags.quick ? flags.seeds.slice(0, 1) : flags.seeds;
  const isDefault =
    seeds.join() === FLAMBY_SEEDS.join() &&
    flags.epsilons.join() === PRIVACY_BENCH_EPSILONS.join() &&
    flags.aggregation.length === AGGREGATIONS.length;
  const name = flags.out ?? (isDefault ? 'privacy-utility' : undefined);
  const calibrations = flags.aggregation.flatMap((a) => flags.epsilons.map((e) => calibrate(a, e)));
  const started = Date.now();
  const runs: PrivacyRun[] = [];
  let pooledN = 0;
  const consortium = await startBenchConsortium();
  try {
    for (const seed of seeds) {
      for (const c of calibrations) {
        const { pooledN: n, ...run } = await runPrivacyFederation(consortium, c, seed);
        pooledN = n;
        runs.push(run);
        process.stdout.write(
          `seed ${seed} ${c.aggregation.padEnd(6)} ε ${String(c.epsilon ?? '∞').padEnd(3)} z ${c.noiseMultiplier?.toFixed(3) ?? '–'} pooled acc ${run.pooledAccuracy.toFixed(4)} auc ${run.pooledAuc.toFixed(4)} (${run.seconds.toFixed(1)} s)\n`,
        );
      }
      write(false);
    }
  } finally {
    await consortium.close();
  }
  process.stdout.write(`\n${write(true)}\n`);

  function write(final: boolean): string {
    const meta = {
      ...machineMeta(),
      mode: final ? (isDefault ? 'full' : 'partial') : 'partial (run in progress)',
      seeds: [...new Set(runs.map((r) => r.seed))].join(', '),
      plan: 'FLamby FedAvg (15 rounds × 100 SGD steps, batch 4, lr 0.001, 4 sites, per-site z-score), δ = 1e-5',
      runtime: `${((Date.now() - started) / 1000).toFixed(0)} s`,
    };
    const cells = summarisePrivacy(runs, calibrations);
    const md = privacyMarkdown(cells, meta, pooledN);
    if (name) {
      const out = writeResults(name, privacyJson(cells, runs, meta), md);
      if (final) process.stdout.write(`written: ${out.md}, ${out.json}\n`);
    }
    return md;
  }
}

runMain('bench:privacy', main);
