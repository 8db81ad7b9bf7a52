#!/usr/bin/env node
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { loadHeartDisease } from '@twinfed/models';
import { PlanSchema } from '@twinfed/shared';
import { compareWithLocalOnly } from './compare';
import { printPlanApprovals, runFederation, startConsortium, watchAndPrintRounds } from './federation-run';
import { HEART_SITES, HEART_SITE_POLICY, heartPlan } from './heart-plan';
import { comparisonSummary, finish, secondsSince, verifiedWeights } from './final-model';
import { runMain } from '../support/main';

interface Flags {
  summary?: string;
  rounds: number;
  seed: number;
  keep?: boolean;
  workDir?: string;
}

async function main(argv: string[]): Promise<void> {
  const program = new Command('npm run demo --')
    .description(
      'Four hospitals (UCI Heart Disease) train a shared model with twinfed: a coordinator and four site clients as separate processes on 127.0.0.1.',
    )
    .option('--summary <file>', 'also write the final comparison as JSON to this file')
    .option('--rounds <n>', 'federated rounds', (v) => Number.parseInt(v, 10), 15)
    .option('--seed <n>', 'seed of the initial model and the local batch order', (v) => Number.parseInt(v, 10), 42)
    .option('--work-dir <dir>', 'where the coordinator and sites keep their data (default: a new temp dir)')
    .option('--keep', 'keep the work dir afterwards')
    .parse(argv);
  const flags = program.opts<Flags>();
  const started = Date.now();
  const workDir = flags.workDir ? path.resolve(flags.workDir) : fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-demo-'));
  const plan = PlanSchema.parse(heartPlan({ rounds: flags.rounds, seed: flags.seed }));
  const names = HEART_SITES.map((s) => s.name);
  console.log(
    `twinfed demo — ${names.length} hospitals, ${plan.strategy.name}, ${plan.rounds} rounds × ${plan.training.steps} local steps; data dir ${workDir}`,
  );

  const consortium = await startConsortium({ workDir, sites: HEART_SITES, sitePolicy: HEART_SITE_POLICY });
  const cleanup = async () => {
    await consortium.stopAll();
    if (!flags.keep && !flags.workDir) fs.rmSync(workDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    console.log(`coordinator ${consortium.url}; enrolled ${[...consortium.siteIds.values()].join(', ')}`);
    const fed = await runFederation(consortium, { workDir, sites: HEART_SITES, plan });
    console.log(`federation ${fed.id}: accuracy and AUC of each published version on each site's own held-out rows`);
    const final = await watchAndPrintRounds(consortium, fed.id, names);
    console.log(`federation ${final.federation.state}; latest version ${final.federation.latestVersionId}`);
    printPlanApprovals({ workDir, sites: HEART_SITES, federationId: fed.id });

    // Final comparison: the federated model (verified like a site would) vs each site's local-only model.
    const vid = final.federation.latestVersionId!;
    const federated = await verifiedWeights(consortium.admin, vid);
    const datasets = loadHeartDisease({ normalization: 'per-site' });
    const rows = await compareWithLocalOnly({
      spec: plan.model,
      federated,
      datasets,
      seed: plan.seed,
      names: (ds) => HEART_SITES.find((s) => s.center === ds.center)?.name ?? ds.name,
    });
    const summary = {
      ...(await comparisonSummary(consortium, final, rows)),
      federationId: fed.id,
      seconds: secondsSince(started),
    };
    finish(summary, flags.summary);
  } finally {
    await cleanup();
  }
}

runMain('demo', main, { stack: false });
