#!/usr/bin/env node
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { dropPostgresSchema, PostgresStore } from '@twinfed/coordinator';
import { loadHeartDisease } from '@twinfed/models';
import { PlanSchema, type Plan } from '@twinfed/shared';
import { SiteAuditLog } from '@twinfed/site-client';
import { startCluster } from '../../support/cluster';
import { runMain } from '../../support/main';
import { stop } from '../../support/processes';
import { compareWithLocalOnly } from '../compare';
import {
  enrollSites,
  runFederation,
  siteDir,
  watchAndPrintRounds,
  watchFederation,
  type Consortium,
} from '../federation-run';
import { comparisonSummary, finish, secondsSince, verifiedWeights } from '../final-model';
import { HEART_SITES, HEART_SITE_POLICY, heartPlan } from '../heart-plan';
import { killDriverDuring } from './failover';

interface Flags {
  summary?: string;
  rounds: number;
  seed: number;
  killRound: number;
  pgUrl: string;
  redisUrl: string;
  leaseTtlMs: number;
  reference: boolean;
  workDir?: string;
  keep?: boolean;
}

const int = (v: string) => Number.parseInt(v, 10);

async function main(argv: string[]): Promise<void> {
  const program = new Command('npm run demo:cluster --')
    .description(
      'Coordinator replicas on PostgreSQL and Redis behind a round-robin proxy; four hospitals (UCI Heart Disease) ' +
        'train a shared model. First the federation runs on one replica (the reference); then on three, and the replica ' +
        'driving it is killed mid-round so that another takes over. The two final models are compared bit for bit.',
    )
    .option('--summary <file>', 'also write the summary as JSON to this file')
    .option('--rounds <n>', 'federated rounds', int, 8)
    .option('--seed <n>', 'seed of the initial model and the local batch order', int, 42)
    .option('--kill-round <n>', 'the round during which the driver is killed', int, 3)
    .option(
      '--pg-url <url>',
      'PostgreSQL server (a new schema is created there and dropped at the end)',
      process.env.TWINFED_DEMO_PG_URL ?? process.env.TWINFED_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    )
    .option(
      '--redis-url <url>',
      'Redis server (keys under a fresh prefix)',
      process.env.TWINFED_DEMO_REDIS_URL ?? process.env.TWINFED_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    )
    .option('--lease-ttl-ms <ms>', "the driver lease's time to live (the coordinator's default is 10 s)", int, 3000)
    .option('--no-reference', 'skip the single-replica reference run (bitIdenticalToSingleReplica is then null)')
    .option('--work-dir <dir>', 'where the replicas and sites keep their data (default: a new temp dir)')
    .option('--keep', 'keep the work dir afterwards')
    .parse(argv);
  const flags = program.opts<Flags>();
  if (flags.killRound < 1 || flags.killRound > flags.rounds)
    throw new Error(`--kill-round must be within 1..${flags.rounds}`);
  const started = Date.now();
  const workDir = flags.workDir
    ? path.resolve(flags.workDir)
    : fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-cluster-'));
  // Every round waits for all four hospitals (minSites 4, a 120 s deadline), and the same enrolled hospitals (whose
  // batch order derives from the plan's seed and their site id) run both federations: the reference and the cluster
  // run are the same federation, and must end with the same bits whichever replica serves which request.
  const plan = PlanSchema.parse(heartPlan({ rounds: flags.rounds, seed: flags.seed, minSites: HEART_SITES.length }));
  const names = HEART_SITES.map((s) => s.name);
  console.log(
    `twinfed cluster demo — 3 replicas, PostgreSQL ${redact(flags.pgUrl)}, Redis ${redact(flags.redisUrl)}; ` +
      `${names.length} hospitals, ${plan.strategy.name}, ${plan.rounds} rounds; data dir ${workDir}`,
  );
  try {
    const suffix = randomBytes(4).toString('hex');
    const schema = `twinfed_demo_${suffix}`;
    const storeUrl = `${flags.pgUrl}${flags.pgUrl.includes('?') ? '&' : '?'}schema=${schema}`;
    const cluster = await startCluster({
      workDir: path.join(workDir, 'cluster'),
      replicas: 3,
      storeUrl,
      redisUrl: flags.redisUrl,
      redisPrefix: `twinfed-demo-${suffix}:`,
      leaseTtlMs: flags.leaseTtlMs,
      catchUpPollMs: 500,
      running: 1,
    });
    const store = await PostgresStore.open({ url: flags.pgUrl, schema, poolSize: 2 });
    const sitesDir = path.join(workDir, 'cluster');
    let consortium: Consortium | null = null;
    try {
      console.log(
        `${cluster.replicas.map((r) => `${r.id} :${r.port}`).join(', ')} behind the round-robin proxy ${cluster.url}; ` +
          `driver lease ${flags.leaseTtlMs} ms; ${cluster.replicas[0]!.id} runs alone first`,
      );
      // Two hospitals are given the proxy's URL (one load balancer); two are given the three replicas' URLs and fail
      // over between them themselves.
      const replicaUrls = cluster.replicas.map((r) => `http://127.0.0.1:${r.port}`);
      const siteIds = await enrollSites({
        admin: cluster.admin,
        workDir: sitesDir,
        sites: HEART_SITES,
        sitePolicy: HEART_SITE_POLICY,
        coordinatorUrls: (s) => (s.center % 2 === 0 ? [cluster.url] : replicaUrls),
      });
      const c: Consortium = {
        url: cluster.url,
        admin: cluster.admin,
        sites: [],
        siteIds,
        stopAll: async () => {
          await Promise.all(c.sites.map((s) => stop(s)));
          await cluster.close();
        },
      };
      consortium = c;
      const reference = flags.reference ? await referenceRun(c, sitesDir, plan) : null;
      await Promise.all([cluster.start(1), cluster.start(2)]);
      console.log(`${cluster.replicas[1]!.id} and ${cluster.replicas[2]!.id} started: three replicas share the store`);
      const fed = await runFederation(c, { workDir: sitesDir, sites: HEART_SITES, plan });
      console.log(`federation ${fed.id}: accuracy and AUC of each published version on each site's own held-out rows`);
      const failover = killDriverDuring({
        cluster,
        store,
        federationId: fed.id,
        round: flags.killRound,
        say: (line) => console.log(`  >> ${line}`),
      });
      const final = await watchAndPrintRounds(c, fed.id, names);
      const takeover = await failover;
      console.log(`federation ${final.federation.state}; latest version ${final.federation.latestVersionId}`);

      const acks = acknowledgedUploads(sitesDir, fed.id, siteIds);
      let lost = 0;
      for (const a of acks) if ((await store.getUpdate(fed.id, a.round, a.siteId))?.digest !== a.digest) lost++;
      const vid = final.federation.latestVersionId!;
      const finalBytes = Buffer.from((await cluster.admin.downloadWeights(vid)).bytes);
      const bitIdentical = reference ? finalBytes.equals(reference) : null;
      console.log(
        `acknowledged uploads (from the hospitals' own audit chains): ${acks.length}, missing from the store: ${lost}; ` +
          `final model ${bitIdentical === null ? 'not compared' : bitIdentical ? 'bit-identical to' : 'DIFFERENT from'} the single-replica run`,
      );
      const rows = await compareWithLocalOnly({
        spec: plan.model,
        federated: await verifiedWeights(cluster.admin, vid),
        datasets: loadHeartDisease({ normalization: 'per-site' }),
        seed: plan.seed,
        names: (ds) => HEART_SITES.find((s) => s.center === ds.center)?.name ?? ds.name,
      });
      const summary = {
        replicas: cluster.replicas.length,
        store: 'postgres',
        push: 'redis',
        failovers: 1,
        takeovers: [takeover],
        acknowledgedUpdates: acks.length,
        lostAcknowledgedUpdates: lost,
        bitIdenticalToSingleReplica: bitIdentical,
        proxyConnections: cluster.proxyStats().forwarded,
        ...(await comparisonSummary(c, final, rows)),
        federationId: fed.id,
        seconds: secondsSince(started),
      };
      finish(summary, flags.summary);
      if (lost > 0 || bitIdentical === false)
        throw new Error('the cluster lost an acknowledged update or ended with another model than one coordinator');
    } finally {
      await (consortium ?? { stopAll: () => cluster.close() }).stopAll();
      await store.close();
      await dropPostgresSchema(flags.pgUrl, schema);
    }
  } finally {
    if (!flags.keep && !flags.workDir) fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** The same federation, by the same hospitals, while one replica runs: the final weights' bytes. */
async function referenceRun(c: Consortium, workDir: string, plan: Plan): Promise<Buffer> {
  const t0 = Date.now();
  const fed = await runFederation(c, { workDir, sites: HEART_SITES, plan });
  const done = await watchFederation(c, { federationId: fed.id, timeoutMs: 15 * 60_000 });
  if (done.federation.state !== 'completed') throw new Error(`the reference federation ${done.federation.state}`);
  await Promise.all(c.sites.map((s) => s.exited));
  c.sites.length = 0;
  const bytes = Buffer.from((await c.admin.downloadWeights(done.federation.latestVersionId!)).bytes);
  console.log(`reference: federation ${fed.id} on one replica took ${secondsSince(t0)} s`);
  return bytes;
}

/** Every upload the hospitals recorded as acknowledged, from their own audit chains. */
function acknowledgedUploads(
  workDir: string,
  federationId: string,
  siteIds: Map<string, string>,
): Array<{ siteId: string; round: number; digest: string }> {
  return HEART_SITES.flatMap((s) =>
    new SiteAuditLog(siteDir(workDir, s))
      .list()
      .filter((e) => e.action === 'update.uploaded')
      .map((e) => e.detail as { federationId: string; round: number; digest: string })
      .filter((d) => d.federationId === federationId)
      .map((d) => ({ siteId: siteIds.get(s.name)!, round: d.round, digest: d.digest })),
  );
}

/** A server URL without its password. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}

runMain('demo:cluster', main, { stack: false });
