#!/usr/bin/env node
import { Command, Option } from 'commander';
import { initialWeights, type TrainingConfig } from '@twinfed/shared';
import { createTrainer, initBackend, loadHeartDisease } from '@twinfed/models';
import { benchLoad } from '../load/bench-load';
import { aggregationSection } from './aggregation';
import { benchEnvelope } from './envelope';
import { benchExplain } from './explain';
import { benchFhirImport } from './fhir-import';
import { benchSecureAggregation } from './secure-aggregation';
import { benchSecureScale } from './secure-scale';
import { benchSecureLoad } from '../load/bench-secure-load';
import { benchStream } from './stream';
import { benchUploadPath } from './upload-path';
import { benchRequestCost } from './request-cost/section';
import { wireSection } from './wire';
import { machineMeta, toMarkdown, writeResults, type BenchTable } from './report';
import { runMain } from '../support/main';

async function trainingSpeed(backend: 'cpu' | 'wasm', optimizer: 'sgd' | 'adam', steps: number): Promise<number> {
  await initBackend({ prefer: backend });
  const data = loadHeartDisease()[0]!;
  const spec = { kind: 'logistic-regression' as const, inputs: data.train.d };
  const training: TrainingConfig = { steps, batchSize: 4, optimizer, lr: 0.001 };
  const trainer = await createTrainer({ spec, data: data.train, training, seed: 1 });
  try {
    await trainer.trainRound({ weights: initialWeights(spec, 1) }); // warm-up
    const t0 = performance.now();
    await trainer.trainRound({ weights: initialWeights(spec, 1) });
    return steps / ((performance.now() - t0) / 1000);
  } finally {
    trainer.dispose();
  }
}

async function main(argv: string[]): Promise<void> {
  const flags = new Command('npm run bench --')
    .description('Benchmarks with a reference measured in the same run; writes bench/results/bench.{json,md}.')
    .option('--quick', 'fewer iterations (a smoke run)')
    .option('--no-load', 'skip the load section (500 and 1,000 simulated sites; writes bench/results/load.{json,md})')
    .option('--load-only', 'run only the load section')
    .option('--no-wire', 'skip the wire-size section (bytes per site-round; writes its part of bench/results/scale.*)')
    .option('--wire-only', 'run only the wire-size section')
    .option(
      '--aggregation-only',
      'run only the aggregation section (writes its part of bench/results/scale.{json,md}, not bench.{json,md})',
    )
    .option('--load-sizes <list>', 'site counts of the load section, comma-separated (default 500,1000; quick 100,200)')
    .option('--load-rounds <n>', 'rounds per load run (default 5; quick 3)')
    .option(
      '--profile <label>',
      "profile the coordinator of the largest load run and keep its top 20 functions under this label in bench/results/scale.{json,md} (e.g. 'before', 'after')",
    )
    .option(
      '--site-profile <label>',
      'profile the processes simulating the sites of the largest load run (each under node --cpu-prof, summed) and keep their top 20 functions under this label in bench/results/scale.{json,md}',
    )
    .option(
      '--secure',
      'with --load-only: secure rounds against plain ones of the same run (writes the secure-load section of bench/results/scale.{json,md})',
    )
    .option(
      '--secure-sites <list>',
      'with --load-only --secure: the site counts, comma-separated (default 100,500,1000)',
      (v) => v.split(',').map(Number),
    )
    .option(
      '--secure-params <list>',
      'with --load-only --secure: the model sizes, comma-separated: 4 (logistic regression), 10000 (MLP 16 → 556), 100000 (MLP 16 → 307 → 307); default 10000',
      (v) => v.split(',').map(Number),
    )
    .option(
      '--secure-drop <fraction>',
      'with --load-only --secure: the fraction of sites dropping after masking in every round (default 0.1; 0 for none)',
      Number,
    )
    .option(
      '--site-processes <n>',
      'with --load-only --secure: processes simulating the sites, a slice of them each (default: one per core; 1: all in the bench process)',
      Number,
    )
    .option(
      '--shared-address',
      'with --load-only: every simulated site connects from 127.0.0.1, as the load rows before 2026-12-08 did (default: each from its own loopback address)',
    )
    .option(
      '--secure-only',
      'run only secure aggregation at scale (complete vs sparse graph, 100/500/1,000 sites; writes the secure-aggregation section of bench/results/scale.{json,md})',
    )
    .option(
      '--no-upload-path',
      'skip the upload-path section (coordinator CPU per upload; writes bench/results/upload-path.{json,md})',
    )
    .option('--upload-path-only', 'run only the upload-path section')
    .option(
      '--request-cost-only',
      'run only the request-cost section (coordinator CPU per authenticated request against bare node:http; writes bench/results/request-cost.{json,md})',
    )
    .option(
      '--request-cost-profile',
      'with --request-cost-only: also profile the coordinator and report its top 20 functions',
    )
    .addOption(
      new Option(
        '--request-cost-auth <auth>',
        'with --request-cost-only: how the requests are authenticated (mac: as sites send them)',
      )
        .choices(['mac', 'signature'])
        .default('mac'),
    )
    .option(
      '--request-cost-label <label>',
      'the name of this request-cost run in its report (e.g. before, after)',
      'latest',
    )
    .option('--explain-only', 'run only the explanation section (writes bench/results/explain.{json,md})')
    .option(
      '--upload-path-label <label>',
      'the name of this upload-path run in bench/results/upload-path.md (e.g. before, after)',
      'latest',
    )
    .parse(argv)
    .opts<{
      quick?: boolean;
      load: boolean;
      loadOnly?: boolean;
      aggregationOnly?: boolean;
      wire: boolean;
      wireOnly?: boolean;
      loadSizes?: string;
      loadRounds?: string;
      profile?: string;
      siteProfile?: string;
      secureOnly?: boolean;
      secure?: boolean;
      secureSites?: number[];
      secureParams?: number[];
      secureDrop?: number;
      siteProcesses?: number;
      sharedAddress?: boolean;
      uploadPath: boolean;
      uploadPathOnly?: boolean;
      uploadPathLabel: string;
      explainOnly?: boolean;
      requestCostOnly?: boolean;
      requestCostLabel: string;
      requestCostAuth: 'mac' | 'signature';
      requestCostProfile?: boolean;
    }>();
  if (flags.requestCostOnly)
    return benchRequestCost({
      quick: flags.quick === true,
      label: flags.requestCostLabel,
      auth: flags.requestCostAuth,
      profile: flags.requestCostProfile === true,
      log: (line) => void process.stdout.write(`${line}\n`),
    });
  if (flags.explainOnly) return explainSection(flags.quick === true);
  if (flags.aggregationOnly) {
    await aggregationSection(flags.quick ? 2 : 6);
    return;
  }
  if (flags.wireOnly || (flags.wire && !flags.loadOnly && !flags.uploadPathOnly)) {
    await wireSection({
      sites: flags.quick ? 3 : 5,
      rounds: flags.quick ? 2 : 3,
      log: (line) => void process.stdout.write(`${line}\n`),
    });
    if (flags.wireOnly) return;
  }
  if (flags.secureOnly) {
    await benchSecureScale({
      sites: flags.quick ? [100] : [100, 500, 1000],
      params: flags.quick ? [10_000] : [10_000, 100_000],
      log: (line) => void process.stdout.write(`${line}\n`),
    });
    return;
  }
  if (flags.loadOnly && flags.secure) {
    await benchSecureLoad({
      sizes: flags.secureSites ?? (flags.quick ? [50] : [100, 500, 1000]),
      rounds: 3,
      params: flags.secureParams ?? [10_000],
      dropFraction: flags.secureDrop ?? 0.1,
      ...(flags.siteProcesses ? { siteProcesses: flags.siteProcesses } : {}),
      ...(flags.sharedAddress ? { sharedAddress: true } : {}),
      profile: flags.profile !== undefined,
      log: (line) => void process.stdout.write(`${line}\n`),
    });
    return;
  }
  if (flags.uploadPathOnly || (flags.uploadPath && !flags.loadOnly)) {
    const [sites, rounds] = flags.quick ? [20, 3] : [100, 6];
    await benchUploadPath({
      sites,
      rounds,
      label: flags.uploadPathLabel,
      log: (line) => void process.stdout.write(`${line}\n`),
    });
    if (flags.uploadPathOnly) return;
  }
  if (flags.load || flags.loadOnly) {
    await benchLoad({
      sizes: flags.loadSizes ? flags.loadSizes.split(',').map(Number) : flags.quick ? [100, 200] : [500, 1000],
      rounds: flags.loadRounds ? Number(flags.loadRounds) : flags.quick ? 3 : 5,
      ...(flags.profile ? { profileLabel: flags.profile } : {}),
      ...(flags.siteProfile ? { siteProfileLabel: flags.siteProfile } : {}),
      ...(flags.sharedAddress ? { sharedAddress: true } : {}),
      log: (line) => void process.stdout.write(`${line}\n`),
    });
    if (flags.loadOnly) return;
  }
  const it = flags.quick ? 2 : 6;
  const tables: BenchTable[] = [];

  const { measured: agg, table: aggTable } = await aggregationSection(it);
  tables.push(aggTable);
  const env = [64 * 1024, 1024 * 1024, 16 * 1024 * 1024].map((sizeBytes) =>
    benchEnvelope({ sizeBytes, iterations: sizeBytes > 4e6 ? Math.max(2, it / 2) : it * 4 }),
  );
  tables.push({
    title: 'Update envelope (encrypt + sign, verify + decrypt)',
    note: 'Full envelope (serialise, X25519 → HKDF → AES-256-GCM, Ed25519 over the digest) against raw tweetnacl `box` over the same bytes in the same run.',
    columns: ['payload', 'seal MiB/s', 'open MiB/s', 'tweetnacl box MiB/s', 'seal / nacl.box'],
    rows: env.map((e) => [
      `${(e.sizeBytes / 1024).toFixed(0)} KiB`,
      e.sealMiBs,
      e.openMiBs,
      e.naclBoxMiBs,
      e.sealMiBs / e.naclBoxMiBs,
    ]),
  });

  const secagg = [];
  for (const c of flags.quick
    ? [
        { sites: 5, size: 10_000 },
        { sites: 20, size: 10_000 },
      ]
    : [
        { sites: 5, size: 100_000 },
        { sites: 20, size: 100_000 },
        { sites: 50, size: 100_000 },
        { sites: 20, size: 1_000_000 },
      ]) {
    secagg.push(await benchSecureAggregation(c));
  }
  tables.push({
    title: 'Secure aggregation (Bonawitz et al.): cost per round',
    note: 'Milliseconds. Site: share its secrets with every cohort member, then mask its update (one pairwise mask per other site); its signatures against a lying coordinator (verify every cohort member\'s signed directory entry, sign its keys, verify every survivor\'s key signature, sign the consistency statement, verify t of them). Coordinator: add the masked vectors, recombine t seeds, remove the masks; "10 % dropped" (at least one site, after masking) also recombines their mask keys and removes their pairwise masks. Reference: a bare example-weighted sum of the same float vectors (what plain FedAvg folds), same run.',
    columns: [
      'sites × parameters',
      'site: share ms',
      'site: mask ms',
      'site: signatures ms',
      'coordinator ms',
      'coordinator, 10 % dropped ms',
      'plain sum ms',
      'coordinator / plain',
    ],
    rows: secagg.map((r) => [
      `${r.sites} × ${r.size.toLocaleString('en')}`,
      r.siteShareMs,
      r.siteMaskMs,
      r.siteSignaturesMs,
      r.serverMs,
      r.serverDroppedMs,
      r.plainSumMs,
      r.serverMs / r.plainSumMs,
    ]),
  });

  const steps = flags.quick ? 500 : 3000;
  const rows: Array<Array<string | number>> = [];
  for (const opt of ['sgd', 'adam'] as const) {
    const cpu = await trainingSpeed('cpu', opt, steps);
    const wasm = await trainingSpeed('wasm', opt, steps);
    rows.push([opt, cpu, wasm, wasm / cpu]);
  }
  tables.push({
    title: 'Local training speed (logistic regression, 13 features, batch 4, Cleveland)',
    note: 'Mini-batch steps per second by tfjs backend (tfjs-node is not installable here).',
    columns: ['optimizer', 'cpu steps/s', 'wasm steps/s', 'wasm / cpu'],
    rows,
  });

  // Twin ingestion: FHIR import into the site's twin store, and the wearable stream endpoint.
  const fhir = [];
  for (const store of ['sqlite', 'memory'] as const)
    fhir.push({ store, ...(await benchFhirImport({ resources: flags.quick ? 5_000 : 40_000, store })) });
  const stream = [];
  for (const batch of [1, 100, 500])
    stream.push(await benchStream({ samples: flags.quick ? 2_000 : batch === 1 ? 5_000 : 40_000, batch }));
  tables.push({
    title: 'Twin ingestion (site)',
    note: 'FHIR R4 resources imported per second (parse, validate, normalise units, pseudonymise, idempotent upsert), and wearable samples per second through the authenticated local endpoint (HTTP, zod, queue, SQLite, live rescoring), 4 requests in flight.',
    columns: ['what', 'store / batch', 'per second'],
    rows: [
      ...fhir.map((f) => ['FHIR import, resources', f.store, f.resourcesPerSecond] as Array<string | number>),
      ...stream.map(
        (r) => ['stream, samples', `sqlite / ${r.batch} per request`, r.samplesPerSecond] as Array<string | number>,
      ),
    ],
  });

  const meta = {
    ...machineMeta(),
    mode: flags.quick ? 'quick' : 'full',
  };
  const md = toMarkdown('twinfed benchmarks', meta, tables);
  const out = writeResults(
    'bench',
    { meta, aggregation: agg, envelope: env, secureAggregation: secagg, training: rows, ingestion: { fhir, stream } },
    md,
  );
  process.stdout.write(`${md}\nwritten: ${out.json}, ${out.md}\n`);
}

/** Explanation cost per score by method, written to bench/results/explain.{json,md}. */
async function explainSection(quick: boolean): Promise<void> {
  const background = 32;
  const rows = await benchExplain({
    inputs: quick ? [8, 12] : [8, 12, 16, 24, 40],
    background,
    repeats: quick ? 1 : 5,
    backend: 'wasm',
  });
  const meta = { ...machineMeta(), mode: quick ? 'quick' : 'full', backend: 'wasm', background: String(background) };
  const md = toMarkdown('twinfed explanation cost', meta, [
    {
      title: 'One explained score: Shapley values against integrated gradients (MLP [16, 8], relu)',
      note: `Median milliseconds per explained row on the wasm backend. Shapley values: exact (2^d coalitions × ${background} background rows) up to 16 inputs, permutation sampling (64 permutations × ${background} rows × (d + 1) steps) beyond. Reference: integrated gradients (32 steps) on the same model and row, same run. Ratio = Shapley / integrated gradients.`,
      columns: ['inputs', 'Shapley method', 'Shapley ms', 'integrated gradients ms', 'ratio'],
      rows: rows.map((r) => [String(r.inputs), r.shapleyMethod, r.shapleyMs, r.integratedGradientsMs, r.ratio]),
    },
  ]);
  const out = writeResults('explain', { meta, rows }, md);
  process.stdout.write(`${md}\nwritten: ${out.json}, ${out.md}\n`);
}

runMain('bench', main);
