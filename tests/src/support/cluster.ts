import fs from 'node:fs';
import path from 'node:path';
import { createAdminClient, type AdminClient } from '@twinfed/coordinator';
import { freePort } from './net';
import { coordinatorCli } from './paths';
import { startNode, stop, type Child } from './processes';
import { startRoundRobinProxy } from './round-robin-proxy';
import { OPERATOR_TOKEN_FILE, readOperatorToken } from './operator-token';

/** One coordinator replica of a {@link Cluster}: a `twinfed coordinator start` process on a fixed loopback port. */
export interface Replica {
  /** 0-based position (the proxy's backend index). */
  index: number;
  /** Its TWINFED_REPLICA_ID: the holder name of the driver leases it takes. */
  id: string;
  port: number;
  dataDir: string;
  /** The running process; null before the first start. */
  child: Child | null;
  /** How many times it was started. */
  starts: number;
}

interface ClusterOptions {
  workDir: string;
  replicas: number;
  /** How many replicas run from the start (default: all); the others are set up (keys copied) and started later. */
  running?: number;
  /** The store every replica shares: a postgres:// URL (with ?schema=) or a SQLite file path. */
  storeUrl: string;
  /** Redis shared by the replicas (push, failed-authentication counts); absent: each replica keeps its own. */
  redisUrl?: string;
  redisPrefix?: string;
  /** TWINFED_DRIVER_LEASE_TTL_MS of every replica (default: the coordinator's 10 s). */
  leaseTtlMs?: number;
  /** TWINFED_CATCH_UP_POLL_MS of every replica. */
  catchUpPollMs?: number;
  logLevel?: string;
}

/**
 * Several coordinator replicas sharing one store (and Redis), behind a round-robin TCP proxy, as separate
 * processes: what the replica fault tests, the cluster demo and the cluster benchmark run. The first replica
 * creates the coordinator key and the operator token; the others get copies of both files, as an operator
 * deploying replicas copies the key files (a replica with other keys refuses to start).
 */
export interface Cluster {
  /** The proxy's URL: what sites and the operator use. */
  url: string;
  replicas: Replica[];
  admin: AdminClient;
  /** The operator token (from the first replica's data dir). */
  operatorToken: string;
  proxyStats(): { forwarded: number[]; failed: number[]; refused: number };
  /** Starts (or restarts, disarmed) replica `index`; resolves when it answers, or died. */
  start(index: number): Promise<void>;
  /** Arms a test crash point (`<point>[:<nth>]`) in the running replica `index`: it dies with SIGKILL there. */
  arm(index: number, spec: string): void;
  /** Sends `signal` to replica `index` and, for SIGKILL/SIGTERM, waits for it to exit. */
  signal(index: number, signal: NodeJS.Signals): Promise<void>;
  /** True while replica `index` runs (also when stopped with SIGSTOP). */
  alive(index: number): boolean;
  /** Closes every connection through the proxy (as a balancer reload does). */
  cutConnections(): void;
  /** Stops every replica (SIGCONT first, then SIGTERM) and the proxy. */
  close(): Promise<void>;
}

const KEY_FILES = ['coordinator.key.json', OPERATOR_TOKEN_FILE];

export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  if (o.replicas < 1) throw new RangeError('a cluster has at least one replica');
  const replicas: Replica[] = [];
  for (let i = 0; i < o.replicas; i++)
    replicas.push({
      index: i,
      id: `replica-${i + 1}`,
      port: await freePort(),
      dataDir: path.join(o.workDir, `replica-${i + 1}`),
      child: null,
      starts: 0,
    });

  const crashFile = (r: Replica) => path.join(r.dataDir, 'test-crash-at');
  const env = (r: Replica): NodeJS.ProcessEnv => ({
    TWINFED_LOG_LEVEL: o.logLevel ?? 'warn',
    TWINFED_STORE_URL: o.storeUrl,
    TWINFED_REPLICA_ID: r.id,
    ...(o.redisUrl ? { TWINFED_REDIS_URL: o.redisUrl } : {}),
    ...(o.redisPrefix ? { TWINFED_REDIS_PREFIX: o.redisPrefix } : {}),
    ...(o.leaseTtlMs ? { TWINFED_DRIVER_LEASE_TTL_MS: String(o.leaseTtlMs) } : {}),
    ...(o.catchUpPollMs ? { TWINFED_CATCH_UP_POLL_MS: String(o.catchUpPollMs) } : {}),
    TWINFED_TEST_CRASH_FILE: crashFile(r),
  });

  const start = async (index: number): Promise<void> => {
    const r = replicas[index];
    if (!r) throw new RangeError(`no replica ${index}`);
    if (r.child && r.child.proc.exitCode === null && r.child.proc.signalCode === null)
      throw new Error(`${r.id} is still running`);
    fs.rmSync(crashFile(r), { force: true });
    const child = startNode({
      name: r.id,
      script: coordinatorCli(),
      args: ['--json', '--data-dir', r.dataDir, 'coordinator', 'start', '--port', String(r.port)],
      env: env(r),
    });
    r.child = child;
    r.starts++;
    await Promise.race([child.waitForLine(/"url"\s*:/, 60_000), child.exited]);
  };

  await start(0);
  if (replicas[0]!.child!.proc.exitCode !== null)
    throw new Error(`${replicas[0]!.id} did not start:\n${replicas[0]!.child!.lines.slice(-20).join('\n')}`);
  for (const r of replicas.slice(1)) {
    fs.mkdirSync(r.dataDir, { recursive: true, mode: 0o700 });
    for (const f of KEY_FILES) fs.copyFileSync(path.join(replicas[0]!.dataDir, f), path.join(r.dataDir, f));
  }
  const running = replicas.slice(0, o.running ?? replicas.length);
  await Promise.all(running.slice(1).map((r) => start(r.index)));
  for (const r of running)
    if (r.child!.proc.exitCode !== null)
      throw new Error(`${r.id} did not start:\n${r.child!.lines.slice(-20).join('\n')}`);

  const proxy = await startRoundRobinProxy({
    backends: replicas.map((r) => ({ host: '127.0.0.1', port: r.port })),
    connectTimeoutMs: 1000,
  });
  const operatorToken = readOperatorToken(replicas[0]!.dataDir);
  const alive = (index: number) => {
    const c = replicas[index]?.child;
    return !!c && c.proc.exitCode === null && c.proc.signalCode === null;
  };
  return {
    url: proxy.url,
    replicas,
    operatorToken,
    admin: createAdminClient({ baseUrl: proxy.url, token: operatorToken, timeoutMs: 5000 }),
    proxyStats: () => proxy.stats(),
    start,
    alive,
    arm: (index, spec) => fs.writeFileSync(crashFile(replicas[index]!), spec),
    async signal(index, signal) {
      const c = replicas[index]?.child;
      if (!c || !alive(index)) return;
      c.proc.kill(signal);
      if (signal === 'SIGKILL' || signal === 'SIGTERM') await c.exited;
    },
    cutConnections: () => proxy.cutAll(),
    async close() {
      await proxy.close();
      await Promise.all(
        replicas.map(async (r) => {
          if (!r.child || !alive(r.index)) return;
          r.child.proc.kill('SIGCONT');
          await stop(r.child);
        }),
      );
    },
  };
}
