#!/usr/bin/env node
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, Option } from 'commander';
import { twinScenarioCoxPlan, twinScenarioPlan } from '@twinfed/site-client';
import { siteCli } from '../../support/paths';
import { runNode, startNode, stop, type Child } from '../../support/processes';
import { printPlanApprovals, siteDir, startConsortium, watchAndPrintRounds } from '../federation-run';
import { comparisonSummary, finish, secondsSince, verifiedWeights } from '../final-model';
import { compareTwins, compareTwinsCox, loadHospitalData } from './compare';
import { coxSummary, coxTable } from './cox-summary';
import { TWIN_HOSPITALS, simulateArgs, twinSitePolicy, type TwinHospital } from './hospitals';
import { streamWearables, type StreamResult } from './stream';
import { runMain } from '../../support/main';

interface Flags {
  patients: number;
  rounds: number;
  summary?: string;
  workDir?: string;
  keep?: boolean;
  normalization: 'per-site' | 'federated';
  secureAggregation: boolean;
  model: 'logistic-regression' | 'cox';
}

const jsonLines = (lines: string[]) =>
  lines.flatMap((l) => {
    try {
      const v = JSON.parse(l) as Record<string, unknown>;
      return v && typeof v === 'object' ? [v] : [];
    } catch {
      return [];
    }
  });

async function site(args: string[], name: string): Promise<Record<string, unknown>[]> {
  return jsonLines(await runNode({ name, script: siteCli(), args: ['--json', ...args], timeoutMs: 300_000 }));
}

async function main(argv: string[]): Promise<void> {
  const flags = new Command('npm run demo --')
    .description(
      'Four simulated hospitals keep digital twins (FHIR + wearable streams), train a susceptibility model together, score their patients and report a k-anonymous population view.',
    )
    .option('--patients <n>', 'patients per hospital', (v) => Number.parseInt(v, 10), 1000)
    .option('--rounds <n>', 'federated rounds', (v) => Number.parseInt(v, 10), 15)
    .option('--summary <file>', 'also write the final comparison as JSON')
    .option('--work-dir <dir>', 'where the coordinator and sites keep their data (default: a new temp dir)')
    .option('--keep', 'keep the work dir afterwards')
    .option('--normalization <kind>', 'federated (pooled z-score statistics by secure sum) or per-site', 'federated')
    .option('--no-secure-aggregation', 'send updates one by one (encrypted to the coordinator) instead of masked')
    .addOption(
      new Option(
        '--model <kind>',
        'logistic-regression: the probability of pneumonia within 30 days; cox: the time to pneumonia (twins followed up for 30 days after the snapshot, some lost), compared by C-index',
      )
        .choices(['logistic-regression', 'cox'])
        .default('logistic-regression'),
    )
    .parse(argv)
    .opts<Flags>();
  const started = Date.now();
  const workDir = flags.workDir
    ? path.resolve(flags.workDir)
    : fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-twins-'));
  const hospitals = TWIN_HOSPITALS;
  const names = hospitals.map((h) => h.name);
  const dirOf = (h: TwinHospital) => siteDir(workDir, h);
  // The scenario over time: each hospital also records 30 days of follow-up after the snapshot (the outcome window).
  const cox = flags.model === 'cox';
  const followUpDays = cox ? 30 : 0;
  console.log(
    `twinfed twin demo${cox ? ' over time (Cox model of the time to pneumonia)' : ''} — ${hospitals.length} simulated hospitals × ${flags.patients} patients; data dir ${workDir}`,
  );

  // 1. Each hospital's EHR export and wearable stream (synthetic, with a documented ground truth).
  const sims = await Promise.all(
    hospitals.map(async (h) => ({
      h,
      out: (
        await site(simulateArgs({ workDir, hospital: h, patients: flags.patients, followUpDays }), `simulate ${h.name}`)
      ).find((l) => l.type === 'simulated')!,
    })),
  );
  const at = String(sims[0]!.out.at);

  // The federation's plan (4. below) is known up front: each hospital's policy is written with its enrollment.
  const scenarioPlan = cox ? twinScenarioCoxPlan : twinScenarioPlan;
  const base = scenarioPlan();
  // Federated normalisation: every site z-scores with the pooled statistics from a secure sum, so a score means
  // the same at every hospital and the population view compares like with like.
  // Secure aggregation: each site's update is masked; the coordinator only ever learns the sum of the round.
  const plan = scenarioPlan({
    rounds: flags.rounds,
    data: { ...base.data, normalization: flags.normalization },
    privacy: { secureAggregation: flags.secureAggregation },
  });
  const consortium = await startConsortium({ workDir, sites: hospitals, sitePolicy: twinSitePolicy(plan) });
  const running: Child[] = [];
  const cleanup = async () => {
    await Promise.all(running.map((c) => stop(c)));
    await consortium.stopAll();
    if (!flags.keep && !flags.workDir) fs.rmSync(workDir, { recursive: true, force: true });
  };

  /**
   * The consortium's population view (k-anonymous, noisy counts per risk tier) and one hospital's worklist: its
   * highest scores with explanations (pseudonymous ids; the site resolves them locally). `horizonDays`: a Cox
   * model's score is the risk within that many days; null for the binary model's probability.
   */
  const showPopulationAndWorklist = async (federationId: string, horizonDays: number | null) => {
    const view = await consortium.admin.population({ federationId });
    console.log(
      `\nPopulation view (k = ${view.sites[0]?.k ?? '?'}, ε = ${view.sites[0]?.epsilon ?? '—'}): sites ranked by high-risk twins — where to send vaccines first`,
    );
    for (const r of view.ranking) console.log(`  ${r.rank}. ${r.name.padEnd(20)} high risk: ${r.highRisk ?? '<k'}`);
    console.log(
      `  across sites: ${view.tiers.map((t) => `${t.tier} ${t.count}${t.suppressedSites ? ` (+${t.suppressedSites} suppressed)` : ''}`).join(', ')}`,
    );
    const first = hospitals[0]!;
    const scores = (
      await site(['score', '--federation', federationId, '--top', '3', '--at', at, '--data-dir', dirOf(first)], 'score')
    ).find((l) => l.type === 'scores');
    const what =
      horizonDays === null ? 'highest susceptibility' : `highest risk of pneumonia within ${horizonDays} days`;
    console.log(`\n${first.name}: ${what} (decision support for clinicians, model ${String(scores?.versionId)}):`);
    for (const s of (scores?.scores ?? []) as Array<{
      pid: string;
      score: number;
      tier: string;
      contributions: Array<{ text: string }>;
    }>) {
      console.log(
        `  ${s.pid.slice(0, 12)}…  ${s.score.toFixed(2)} ${s.tier.padEnd(6)}  ${s.contributions.map((c) => c.text).join('; ')}`,
      );
    }
    return view;
  };
  try {
    console.log(`coordinator ${consortium.url}; enrolled ${[...consortium.siteIds.values()].join(', ')}`);

    // 2. FHIR import into each site's twin store.
    console.log('\nFHIR import (Patient, Observation, Condition, Immunization, Consent):');
    for (const { h, out } of sims) {
      const t0 = performance.now();
      const rep = (
        await site(['ingest', 'fhir', String(out.fhirFile), '--data-dir', dirOf(h)], `ingest ${h.name}`)
      ).find((l) => l.type === 'ingest')!;
      const acc = rep.accepted as Record<string, number>;
      const total = Object.values(acc).reduce((a, b) => a + b, 0);
      console.log(
        `  ${h.name.padEnd(20)} ${String(total).padStart(6)} records (${acc.patients} patients, ${acc.observations} observations, ${acc.conditions} conditions) in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${String(rep.rejectedCount)} rejected`,
      );
    }

    // 3. Wearable streams into each site's local, authenticated endpoint (twins update as samples arrive).
    console.log('\nWearable streams → each site’s local endpoint:');
    const streams: StreamResult[] = [];
    for (const { h, out } of sims) {
      const serve = startNode({
        name: `serve ${h.name}`,
        script: siteCli(),
        args: ['--json', 'serve', '--listen', '127.0.0.1:0', '--data-dir', dirOf(h)],
      });
      running.push(serve);
      const line = JSON.parse(await serve.waitForLine(/"localApi"/, 60_000)) as { localApi: string; tokenFile: string };
      const token = fs.readFileSync(line.tokenFile, 'utf8').trim();
      const r = await streamWearables({ file: String(out.wearableFile), localApi: line.localApi, token });
      streams.push(r);
      console.log(
        `  ${h.name.padEnd(20)} ${String(r.samples).padStart(6)} samples, ${r.accepted} accepted, ${r.duplicates} duplicates, ${Math.round(r.samples / r.seconds)} samples/s`,
      );
      await stop(serve);
      running.splice(running.indexOf(serve), 1);
    }

    // 4. Federated training of the susceptibility model from the twins (each hospital's policy approves the plan).
    const fed = await consortium.admin.createFederation(plan);
    for (const h of hospitals) {
      consortium.sites.push(
        startNode({
          name: h.name,
          script: siteCli(),
          args: ['run', '--federation', fed.id, '--twins', '--at', at, '--data-dir', dirOf(h)],
          env: { TWINFED_LOG_LEVEL: 'warn' },
        }),
      );
    }
    console.log(
      `\nfederation ${fed.id} (${cox ? 'cox, ' : ''}${plan.strategy.name}, ${plan.rounds} rounds${plan.privacy.secureAggregation ? ', secure aggregation: masked updates only' : ''}): ${cox ? 'C-index and loss' : 'accuracy and AUC'} of each version on each site's own held-out twins`,
    );
    const final = await watchAndPrintRounds(consortium, fed.id, names, cox);
    await Promise.all(consortium.sites.map((s) => s.exited));
    printPlanApprovals({ workDir, sites: hospitals, federationId: fed.id });
    const data = () =>
      loadHospitalData({ hospitals, siteDir: dirOf, plan, at: Date.parse(at), testFraction: 0.34, splitSeed: 43 });
    const vid = final.federation.latestVersionId!;

    if (cox) {
      // The head carries the federated Breslow baseline, so a twin's score is its risk of pneumonia within the
      // horizon, with tiers: the same population view and worklist as the binary model.
      const horizonDays = plan.model.kind === 'cox' ? plan.model.horizonDays : 0;
      const view = await showPopulationAndWorklist(fed.id, horizonDays);
      // Federated vs local-only by C-index, on the other hospitals' held-out twins.
      const rows = await compareTwinsCox({
        plan,
        federated: await verifiedWeights(consortium.admin, vid),
        data: await data(),
      });
      // The head is the federated Breslow baseline's version, which the sites evaluate after the federation completed:
      // read their evaluations now that every site has exited.
      final.evaluations.set(vid, await consortium.admin.listEvaluations(vid));
      const summary = coxSummary({ rows, final, horizonDays });
      console.log(`\n${coxTable(summary)}`);
      const coxRun = {
        scenario: 'digital twins over time',
        rounds: final.rounds.filter((r) => r.state === 'published').length,
        versions: (await consortium.admin.listModels({ federationId: fed.id })).length,
        cox: summary,
        stream: { samples: streams.reduce((a, s) => a + s.samples, 0) },
        population: view.ranking,
        federationId: fed.id,
        seconds: secondsSince(started),
      };
      finish(coxRun, flags.summary);
      return;
    }

    // 5–6. The population view and one hospital's worklist.
    const view = await showPopulationAndWorklist(fed.id, null);

    // 7. Federated vs local-only, on the other hospitals' held-out twins.
    const federated = await verifiedWeights(consortium.admin, vid);
    const rows = await compareTwins({ plan, federated, data: await data() });
    console.log('');
    const summary = {
      scenario: 'digital twins',
      ...(await comparisonSummary(consortium, final, rows)),
      stream: {
        samples: streams.reduce((a, s) => a + s.samples, 0),
        samplesPerSecond: Math.round(
          streams.reduce((a, s) => a + s.samples, 0) / streams.reduce((a, s) => a + s.seconds, 0),
        ),
      },
      population: view.ranking,
      federationId: fed.id,
      seconds: secondsSince(started),
    };
    finish(summary, flags.summary);
  } finally {
    await cleanup();
  }
}

runMain('demo', main, { stack: false });
