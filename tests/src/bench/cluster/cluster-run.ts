/**
 * One configuration of the cluster benchmark: N coordinator replicas on a fresh PostgreSQL schema and a fresh Redis
 * prefix, behind the round-robin proxy, and `sites` simulated sites (the load test's swarm: real enrollment, signed
 * HTTP, socket.io, sealed uploads) for `rounds` rounds. Measures rounds, the replicas' CPU, PostgreSQL connections
 * and commits, and every 5xx or failed request the sites saw. The schema and the Redis keys are removed afterwards.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { dropPostgresSchema } from '@twinfed/coordinator';
import type { RoundView } from '@twinfed/shared';
import { startCluster, type Cluster } from '../../support/cluster';
import { cpuOf, quantile, tinyPlan } from '../../load/load-run';
import { LOAD_FEATURES, enrollSwarm, runSwarm } from '../../load/swarm';
import { commitsOf, watchConnections } from './pg-stats';
import { countingFetch, emptyHttpCounts, type HttpCounts } from './http-counts';

interface ClusterRunOptions {
  replicas: number;
  sites: number;
  rounds: number;
  /** The PostgreSQL server (a URL without schema; its database is the one whose commits are counted). */
  pgUrl: string;
  redisUrl: string;
  log?: (line: string) => void;
}

/** What one configuration measured. */
export interface ClusterRunResult {
  replicas: number;
  sites: number;
  rounds: number;
  /** Open → published, per round, seconds. */
  roundSeconds: number[];
  p50: number;
  p95: number;
  roundsPublished: number;
  everyRoundHadEverySite: boolean;
  enrollSeconds: number;
  federationSeconds: number;
  uploads: number;
  evaluations: number;
  /** Site errors (warnings, refusals, failed runs), non-503 5xx answers and requests that failed without an answer. */
  errors: string[];
  http: HttpCounts;
  /** Uploads the replicas refused with 503 OVERLOADED (sum of their /metrics; the sites retried them). */
  overloadedUploads: number;
  /** CPU seconds (user + system, /proc/<pid>/stat) of each replica during the federation. */
  replicaCpuSeconds: number[];
  coordinatorCpuSeconds: number;
  /** coordinatorCpuSeconds per (site × round), in milliseconds. */
  cpuMsPerSiteRound: number;
  /** Peak sessions of the replicas' application_name in pg_stat_activity (polled, enrollment and federation). */
  pgPeakConnections: number;
  /** The replicas' pool size each (TWINFED_STORE_POOL_SIZE default). */
  pgPoolSizePerReplica: number;
  /** xact_commit delta of the database during the federation, less this benchmark's own statistics queries. */
  pgCommits: number;
  pgCommitsPerRound: number;
  /** Commits per second in the database while the cluster was idle just before the federation (other users). */
  pgBackgroundCommitsPerSecond: number;
  /** TCP connections the proxy sent to each replica. */
  proxyForwarded: number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const POOL_SIZE = 10;
const POLL_MS = 500;
const BACKGROUND_MS = 5000;
/** Commits one `psql -c` adds to xact_commit (measured on PostgreSQL 15: the session's startup transaction, the query). */
const COMMITS_PER_PSQL = 2;

/** Replica /metrics, summed: uploads refused with 503. */
async function overloadedOf(c: Cluster): Promise<number> {
  let sum = 0;
  for (const r of c.replicas) {
    const res = await fetch(`http://127.0.0.1:${r.port}/metrics`, {
      headers: { authorization: `Bearer ${c.operatorToken}` },
    });
    const m = /^twinfed_uploads_total\{outcome="overloaded"\} (\d+)/m.exec(await res.text());
    sum += Number(m?.[1] ?? Number.NaN);
  }
  return sum;
}

async function cleanupRedis(redisUrl: string, prefix: string): Promise<void> {
  const script = "for _,k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0";
  await promisify(execFile)('redis-cli', ['-u', redisUrl, 'EVAL', script, '0', `${prefix}*`], { timeout: 15_000 });
}

export async function runClusterConfig(o: ClusterRunOptions): Promise<ClusterRunResult> {
  const log = o.log ?? (() => undefined);
  const tag = `tf_bench_cluster_${process.pid}_${randomBytes(4).toString('hex')}`;
  const database = new URL(o.pgUrl).pathname.slice(1);
  const storeUrl = `${o.pgUrl}?schema=${tag}&application_name=${tag}`;
  const redisPrefix = `twinfed-bench:${tag}:`;
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-bench-cluster-'));
  const sitesDir = fs.mkdtempSync(
    path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'twinfed-bench-cluster-sites-'),
  );
  let cluster: Cluster | null = null;
  let watch: ReturnType<typeof watchConnections> | null = null;
  try {
    cluster = await startCluster({ workDir, replicas: o.replicas, storeUrl, redisUrl: o.redisUrl, redisPrefix });
    const c = cluster;
    watch = watchConnections(o.pgUrl, tag, POLL_MS);
    const admin = c.admin;
    const t0 = Date.now();
    const enrollments = await enrollSwarm({
      count: o.sites,
      dir: sitesDir,
      coordinatorUrl: c.url,
      invite: async (name) => (await admin.createInvitation({ siteName: name })).token,
    });
    const enrollSeconds = (Date.now() - t0) / 1000;
    log(`${o.replicas} replica(s): enrolled ${o.sites} sites in ${enrollSeconds.toFixed(1)} s`);

    const enrollPeak = await watch.stop();
    watch = null;

    // The server's commit rate without this benchmark (its statistics are flushed ≤ 1 s after a session idles).
    await sleep(2000);
    const b0 = await commitsOf(o.pgUrl, database);
    await sleep(BACKGROUND_MS);
    const b1 = await commitsOf(o.pgUrl, database);
    const pgBackgroundCommitsPerSecond = (b1 - b0 - COMMITS_PER_PSQL) / (BACKGROUND_MS / 1000);

    const counts = emptyHttpCounts();
    watch = watchConnections(o.pgUrl, tag, POLL_MS);
    const commits0 = await commitsOf(o.pgUrl, database);
    const cpu0 = c.replicas.map((r) => cpuOf(r.child!.proc.pid!));
    const fed = await admin.createFederation(
      tinyPlan({
        name: `cluster bench ${o.replicas} replicas`,
        features: LOAD_FEATURES,
        sites: o.sites,
        rounds: o.rounds,
        roundDeadlineSeconds: 600,
      }),
    );
    const t1 = Date.now();
    const swarm = await runSwarm({
      enrollments,
      federationId: fed.id,
      baseUrl: c.url,
      dir: sitesDir,
      fetch: countingFetch(counts),
    });
    const federationSeconds = (Date.now() - t1) / 1000;
    const replicaCpuSeconds = c.replicas.map((r, i) => cpuOf(r.child!.proc.pid!) - cpu0[i]!);
    const rounds: RoundView[] = await admin.listRounds(fed.id);
    const overloadedUploads = await overloadedOf(c);
    const proxyForwarded = c.proxyStats().forwarded;
    const fedPeak = await watch.stop();
    const peak = Math.max(enrollPeak.peak, fedPeak.peak);
    watch = null;
    // Closing the replicas ends their sessions, which flushes their last statistics.
    await c.close();
    cluster = null;
    await sleep(1500);
    const commits1 = await commitsOf(o.pgUrl, database);
    // This benchmark's own psql sessions during the window: the polls and the first read.
    const pgCommits = commits1 - commits0 - COMMITS_PER_PSQL * (fedPeak.polls + 1);
    const roundSeconds = rounds
      .filter((r) => r.closedAt)
      .map((r) => (Date.parse(r.closedAt!) - Date.parse(r.openedAt)) / 1000);
    const coordinatorCpuSeconds = replicaCpuSeconds.reduce((a, b) => a + b, 0);
    log(
      `${o.replicas} replica(s): ${o.rounds} rounds in ${federationSeconds.toFixed(1)} s; rounds ${roundSeconds.map((s) => s.toFixed(2)).join(', ')} s; ` +
        `CPU ${coordinatorCpuSeconds.toFixed(1)} s; peak PG sessions ${peak} (${enrollPeak.polls + fedPeak.polls} polls)`,
    );
    return {
      replicas: o.replicas,
      sites: o.sites,
      rounds: o.rounds,
      roundSeconds,
      p50: quantile(roundSeconds, 0.5),
      p95: quantile(roundSeconds, 0.95),
      roundsPublished: rounds.filter((r) => r.state === 'published').length,
      everyRoundHadEverySite: rounds.every((r) => r.received === o.sites && r.selectedSiteIds.length === o.sites),
      enrollSeconds,
      federationSeconds,
      uploads: swarm.uploads,
      evaluations: swarm.evaluations,
      errors: [
        ...swarm.errors,
        ...swarm.summaries.filter((s) => s.state !== 'completed').map((s) => `a site ended with ${s.state}`),
        ...(counts.other5xx > 0 ? [`${counts.other5xx} answers 5xx other than 503`] : []),
        ...(counts.failed > 0
          ? [`${counts.failed} requests failed without an answer (${JSON.stringify(counts.failedBy)})`]
          : []),
      ],
      http: counts,
      overloadedUploads,
      replicaCpuSeconds,
      coordinatorCpuSeconds,
      cpuMsPerSiteRound: (coordinatorCpuSeconds * 1000) / (o.sites * o.rounds),
      pgPeakConnections: peak,
      pgPoolSizePerReplica: POOL_SIZE,
      pgCommits,
      pgCommitsPerRound: pgCommits / o.rounds,
      pgBackgroundCommitsPerSecond,
      proxyForwarded,
    };
  } finally {
    if (watch) await watch.stop().catch(() => undefined);
    if (cluster) await cluster.close();
    await dropPostgresSchema(o.pgUrl, tag);
    await cleanupRedis(o.redisUrl, redisPrefix).catch((e: unknown) => log(`redis cleanup: ${(e as Error).message}`));
    fs.rmSync(workDir, { recursive: true, force: true });
    fs.rmSync(sitesDir, { recursive: true, force: true });
  }
}
