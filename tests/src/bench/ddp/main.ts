#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { PlanSchema, planEpsilon } from '@twinfed/shared';
import { machineMeta, toMarkdown, writeResults, type BenchTable } from '../report';
import { startBenchConsortium } from '../flamby/consortium';
import { runBenchFederation } from '../flamby/federated';
import { benchSiteSeed } from '../flamby/methods';
import { FLAMBY_SEEDS } from '../flamby/published';
import {
  DDP_BENCH_CLIP,
  DDP_BENCH_DELTA,
  DDP_BENCH_EPSILONS,
  DDP_MECHANISMS,
  calibratedNoise,
  ddpBenchPlan,
  meanNoiseStd,
  type DdpMechanism,
} from './configs';
import { runMain } from '../../support/main';
import { SiteRecorder } from '../privacy/pooled';

/** One federation of the bench. */
interface DdpRun {
  mechanism: DdpMechanism['key'];
  /** Target ε (null without DP). */
  epsilon: number | null;
  noiseMultiplier: number | null;
  seed: number;
  /** Final version's accuracy and AUC on centre 0..3's own test rows. */
  accuracy: number[];
  auc: number[];
  /** ε the final version's signed metadata carries. */
  signedEpsilon: number | null;
  seconds: number;
}

const DEFAULT_SEEDS = [...FLAMBY_SEEDS];
const list = (v: string): number[] => {
  const xs = v.split(',').map((s) => Number(s.trim()));
  if (!xs.length || xs.some((x) => !(x >= 0) || !Number.isFinite(x)))
    throw new InvalidArgumentError('non-negative numbers, comma-separated');
  return xs;
};
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: readonly number[]) =>
  xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));

async function main(argv: string[]): Promise<void> {
  const flags = new Command('npm run bench:ddp --')
    .description(
      'Distributed DP (secure aggregation + Skellam noise added by the sites) against central DP (Gaussian noise added by the coordinator) on Fed-Heart-Disease (FLamby split, FedAvg, 15 rounds, 4 sites, the same clip), ' +
        "each calibrated to the same ε with its own accountant, through the product's coordinator and site runners. The default run writes bench/results/ddp.{md,json}.",
    )
    .option('--seeds <list>', 'benchmark seeds', list, DEFAULT_SEEDS)
    .option('--epsilons <list>', 'ε targets', list, [...DDP_BENCH_EPSILONS])
    .option(
      '--mechanisms <list>',
      `subset of ${DDP_MECHANISMS.map((m) => m.key).join(', ')}`,
      (v: string) => v.split(','),
      DDP_MECHANISMS.map((m) => m.key),
    )
    .option('--out <name>', 'write bench/results/<name>.{md,json} (default for the default run: ddp)')
    .parse(argv)
    .opts<{ seeds: number[]; epsilons: number[]; mechanisms: string[]; out?: string }>();
  const mechanisms = DDP_MECHANISMS.filter((m) => flags.mechanisms.includes(m.key));
  const isDefault =
    flags.seeds.join() === DEFAULT_SEEDS.join() &&
    flags.epsilons.join() === DDP_BENCH_EPSILONS.join() &&
    mechanisms.length === DDP_MECHANISMS.length;
  const name = flags.out ?? (isDefault ? 'ddp' : undefined);
  const noise = new Map<string, number>();
  for (const m of mechanisms)
    for (const e of flags.epsilons) if (m.key !== 'none') noise.set(`${m.key}/${e}`, calibratedNoise(m.key, e));
  const started = Date.now();
  const runs: DdpRun[] = [];
  const consortium = await startBenchConsortium();
  try {
    for (const seed of flags.seeds) {
      for (const m of mechanisms) {
        for (const epsilon of m.key === 'none' ? [null] : flags.epsilons) {
          const z = epsilon === null ? null : noise.get(`${m.key}/${epsilon}`)!;
          const plan = ddpBenchPlan(m.key, seed, z ?? undefined);
          const t = Date.now();
          // Sites of a DP federation keep their evaluations local: the bench reads them where they are computed.
          const recorders = [0, 1, 2, 3].map(() => new SiteRecorder());
          const out = await runBenchFederation({
            consortium,
            plan,
            siteSeed: (c) => benchSiteSeed(seed, c),
            modelOps: (c) => recorders[c]!.ops,
            afterVersion: (c) => recorders[c]!.afterVersion,
            siteEvaluations: m.key === 'none',
          });
          const last = out.versions[out.versions.length - 1]!;
          const finals = recorders.map((r) => r.evaluationOf(last.versionId));
          const meta = (await consortium.admin.getModel(last.versionId)).meta as { dpEpsilon?: number };
          const expected = planEpsilon(PlanSchema.parse(plan));
          if (expected !== null && meta.dpEpsilon !== expected)
            throw new Error(
              `${plan.name}: the final version is signed with ε = ${meta.dpEpsilon}, the plan spends ${expected}`,
            );
          const run: DdpRun = {
            mechanism: m.key,
            epsilon,
            noiseMultiplier: z,
            seed,
            accuracy: finals.map((f) => f.accuracy),
            auc: finals.map((f) => f.auc),
            signedEpsilon: meta.dpEpsilon ?? null,
            seconds: (Date.now() - t) / 1000,
          };
          runs.push(run);
          process.stdout.write(
            `seed ${seed} ${m.label.padEnd(34)} ε ${String(epsilon ?? '∞').padEnd(3)} z ${z?.toFixed(3) ?? '–'} acc ${mean(run.accuracy).toFixed(4)} auc ${mean(run.auc).toFixed(3)} signed ε ${run.signedEpsilon?.toFixed(3) ?? '–'} (${run.seconds.toFixed(1)} s)\n`,
          );
        }
      }
      report(false);
    }
  } finally {
    await consortium.close();
  }
  process.stdout.write(`\n${report(true)}\n`);

  function report(final: boolean): string {
    const meta = {
      ...machineMeta(),
      mode: final ? (isDefault ? 'full' : 'partial') : 'partial (run in progress)',
      seeds: [...new Set(runs.map((r) => r.seed))].join(', '),
      plan: `FLamby FedAvg (15 rounds × 100 SGD steps, batch 4, lr 0.001, 4 sites, per-site z-score), clip C = ${DDP_BENCH_CLIP}, δ = ${DDP_BENCH_DELTA}`,
      runtime: `${((Date.now() - started) / 1000).toFixed(0)} s`,
    };
    const rows: BenchTable['rows'] = [];
    const summary: Array<Record<string, unknown>> = [];
    for (const m of mechanisms) {
      for (const epsilon of m.key === 'none' ? [null] : flags.epsilons) {
        const rs = runs.filter((r) => r.mechanism === m.key && r.epsilon === epsilon);
        if (!rs.length) continue;
        const acc = rs.map((r) => mean(r.accuracy));
        const z = rs[0]!.noiseMultiplier;
        const planned =
          z === null || m.key === 'none' ? null : planEpsilon(PlanSchema.parse(ddpBenchPlan(m.key, 42, z)))!;
        const std = z === null || m.key === 'none' ? null : meanNoiseStd(m.key, z);
        const perCentre = [0, 1, 2, 3].map((c) => mean(rs.map((r) => r.accuracy[c]!)));
        summary.push({
          mechanism: m.key,
          epsilon,
          noiseMultiplier: z,
          planEpsilon: planned,
          meanNoiseStd: std,
          accuracy: mean(acc),
          sd: sd(acc),
          auc: mean(rs.map((r) => mean(r.auc))),
          perCentre,
          seeds: rs.length,
        });
        rows.push([
          m.label,
          epsilon === null ? '∞' : String(epsilon),
          z === null ? '–' : z.toFixed(3),
          std === null ? '–' : std.toFixed(4),
          ...perCentre.map((a) => a.toFixed(3)),
          `**${mean(acc).toFixed(3)}**`,
          sd(acc).toFixed(3),
          mean(rs.map((r) => mean(r.auc))).toFixed(3),
          String(rs.length),
        ]);
      }
    }
    const table: BenchTable = {
      title: 'Accuracy at equal ε: distributed vs central DP',
      note:
        'Final-version accuracy on each center\'s own test rows (0 Cleveland, 1 Hungarian, 2 Switzerland, 3 VA), mean over seeds; "avg" is the unweighted 4-center average, "sd" its standard deviation over seeds. ' +
        'z is the noise multiplier each mechanism needs to spend exactly ε over the 15 rounds (δ = 1e-5) by its own accountant — exact Gaussian DP for central, the Skellam RDP bound (with the rounding error in the sensitivity) for distributed — ' +
        'and "noise std" the resulting standard deviation of the noise on each coordinate of the mean update per round (weight units). Each run\'s final version is signed with `dpEpsilon` = the plan\'s ε (the bench checks it; `signedEpsilon` per run in the JSON).\n\n' +
        mechanisms.map((m) => `- **${m.label}**: ${m.note}`).join('\n'),
      columns: ['mechanism', 'ε', 'z', 'noise std', 'c0', 'c1', 'c2', 'c3', 'avg', 'sd', 'AUC', 'seeds'],
      rows,
    };
    const md = toMarkdown('Distributed DP (Skellam + secure aggregation) vs central DP on Fed-Heart-Disease', meta, [
      table,
    ]);
    if (name) {
      const out = writeResults(name, { meta, summary, runs }, md);
      if (final) process.stdout.write(`written: ${out.md}, ${out.json}\n`);
    }
    return md;
  }
}

runMain('bench:ddp', main);
