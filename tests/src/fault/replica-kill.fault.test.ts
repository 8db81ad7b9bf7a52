import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PostgresStore } from '@twinfed/coordinator';
import { requireRedis, uniqueRedisPrefix } from '@twinfed/coordinator/__tests__/redis';
import { dropPgSchema, freshSchema, pgTestUrl } from '@twinfed/coordinator/store/__tests__/pg';
import { SeededRandom, type PlanInput } from '@twinfed/shared';
import { startCluster, type Cluster } from '../support/cluster';
import { freePort } from '../support/net';
import { startRoundRobinProxy } from '../support/round-robin-proxy';
import { checkStore, until } from './__tests__/coordinator-process';
import { LightSite, lightPlan } from './__tests__/light-site';

const SEED = 60_221;
const SITES = 4;
const ROUNDS = 12;
const TTL_MS = 1500;
const POLL_MS = 100;

/** FedAdam: its server moments are state a new driver must pick up from the store too. */
const PLAN: PlanInput = lightPlan({
  name: 'replica kill test',
  strategy: { name: 'fedadam', serverLr: 0.05 },
  rounds: ROUNDS,
  minSites: SITES,
  roundDeadlineSeconds: 600,
  seed: 11,
});

/**
 * What happens to the driver in a round: SIGKILL from outside while the round collects (after `after` of its
 * uploads were acknowledged); death at a crash point while it aggregates or publishes; a pause past its lease
 * (SIGSTOP, another replica takes over, SIGCONT); or Redis cut away from every replica for the round.
 */
type Fault =
  | { kind: 'collecting'; after: number }
  | { kind: 'aggregating' }
  | { kind: 'publishing'; point: 'version.published' | 'round.created' }
  | { kind: 'paused' }
  | { kind: 'redis-cut' };

/**
 * Seeded faults. Every round ends with one fault of the driver (five deaths while aggregating, five while publishing,
 * one pause past its lease, one Redis cut: twelve, in a seeded order), and five seeded rounds also lose their driver
 * while collecting.
 */
function faults(seed: number): Map<number, Fault[]> {
  const rng = new SeededRandom(seed);
  const closing: Fault[] = [{ kind: 'paused' }, { kind: 'redis-cut' }];
  for (let i = 0; i < 5; i++)
    closing.push(
      { kind: 'aggregating' },
      { kind: 'publishing', point: rng.next() < 0.5 ? 'version.published' : 'round.created' },
    );
  rng.shuffle(closing);
  const byRound = new Map<number, Fault[]>(closing.map((f, i) => [i + 1, [f]]));
  // The last round creates no next round: a publishing death there is at version.published.
  const lastFault = byRound.get(ROUNDS)![0]!;
  if (lastFault.kind === 'publishing') lastFault.point = 'version.published';
  const collectingRounds = rng.shuffle(Array.from({ length: ROUNDS }, (_, i) => i + 1)).slice(0, 5);
  for (const r of collectingRounds) byRound.get(r)!.unshift({ kind: 'collecting', after: 1 + rng.int(SITES - 1) });
  return byRound;
}

interface RunResult {
  finalWeights: Buffer;
  log: string[];
  kills: number;
  acksChecked: number;
}

/** The replica index that holds the federation's driver lease now (alive and not expired), waiting for one. */
async function driverOf(c: Cluster, store: PostgresStore | null, fid: string): Promise<number> {
  let found = -1;
  await until(
    async () => {
      if (!store) return (found = 0) === 0;
      const lease = await store.getLease(`driver:${fid}`);
      const i = c.replicas.findIndex((r) => r.id === lease?.holder);
      if (!lease || i < 0 || lease.expiresAt <= Date.now() || !c.alive(i)) return false;
      found = i;
      return true;
    },
    { timeoutMs: 30_000, what: 'a live driver', intervalMs: 20 },
  );
  return found;
}

/**
 * One federation on a cluster. `replicas` 1 with a SQLite file and no faults is the reference: one coordinator on one
 * machine. Otherwise three replicas on PostgreSQL and Redis behind a round-robin proxy, with the seeded faults.
 */
async function runFederation(o: {
  workDir: string;
  storeUrl: string;
  replicas: number;
  redis?: { url: string; prefix: string };
  faults: Map<number, Fault[]>;
  checkStore?: PostgresStore;
}): Promise<RunResult> {
  // Redis through a proxy of its own, so that the test can cut it away from the replicas without stopping the server.
  const redisProxy = o.redis
    ? await startRoundRobinProxy({ backends: [{ host: '127.0.0.1', port: Number(new URL(o.redis.url).port || 6379) }] })
    : null;
  const c = await startCluster({
    workDir: o.workDir,
    replicas: o.replicas,
    storeUrl: o.storeUrl,
    ...(o.redis && redisProxy ? { redisUrl: `redis://127.0.0.1:${redisProxy.port}`, redisPrefix: o.redis.prefix } : {}),
    leaseTtlMs: TTL_MS,
    catchUpPollMs: POLL_MS,
  });
  const log: string[] = [];
  let kills = 0;
  let acksChecked = 0;
  const sites: LightSite[] = [];
  let target = c.url;
  const store = o.checkStore ?? null;
  try {
    for (let i = 0; i < SITES; i++) {
      const inv = await c.admin.createInvitation({ siteName: `Site ${String.fromCharCode(65 + i)}` });
      sites.push(await LightSite.enroll({ index: i, token: inv.token, url: () => target }));
    }
    const fid = (await c.admin.createFederation(PLAN)).id;
    const acks = () => sites.flatMap((s) => s.acks);
    const fed = () => c.admin.getFederation(fid);
    /** The site uploads its update of `round` through the proxy, looking again until a replica holds it. */
    const deliver = async (site: LightSite, round: number) => {
      let lastError = '';
      await until(
        async () => {
          await site.step(fid).catch((e: unknown) => void (lastError = describeError(e)));
          // Acknowledged, or stored by a replica that died before its acknowledgement reached the site.
          return site.acks.some((k) => k.round === round) || (await site.submitted(fid, round));
        },
        { timeoutMs: 60_000, what: `${site.siteId}'s upload of round ${round}`, intervalMs: 50 },
      ).catch(async (e: unknown) => {
        // What each replica answers this site directly, and what they logged above info: enough to see why.
        const direct: string[] = [];
        for (const r of c.replicas) {
          target = `http://127.0.0.1:${r.port}`;
          direct.push(`${r.id}: ${await site.step(fid).then(String, describeError)}`);
        }
        target = c.url;
        const logs = c.replicas.map(
          (r) =>
            `${r.id}:\n${r.child?.lines
              .filter((l) => !/"level":30/.test(l))
              .slice(-25)
              .join('\n')}`,
        );
        throw new Error(
          `${String(e)} (last error: ${lastError}); directly: ${direct.join(' / ')}; proxy ${JSON.stringify(c.proxyStats())}; faults so far: ${log.join(' | ')}\n${logs.join('\n')}`,
        );
      });
    };
    /** After a death: every acknowledged upload is in the store; the dead replica comes back (disarmed). */
    const afterDeath = async (index: number, what: string) => {
      const child = c.replicas[index]!.child!;
      await until(() => child.proc.exitCode !== null || child.proc.signalCode !== null, {
        timeoutMs: 60_000,
        what: `${what}: the death of ${c.replicas[index]!.id}`,
      });
      kills++;
      log.push(`${what} (${c.replicas[index]!.id})`);
      if (store) acksChecked += (await checkStore(store, acks())).acksChecked;
      await c.start(index);
    };

    for (let round = 1; round <= ROUNDS; round++) {
      const here = o.faults.get(round) ?? [];
      const collecting = here.find((f) => f.kind === 'collecting');
      const last = here.find((f) => f.kind !== 'collecting');
      const order = new SeededRandom(SEED + round).shuffle([...sites]);
      await until(async () => (await fed()).currentRound === round, { timeoutMs: 60_000, what: `round ${round}` });
      let paused = -1;
      for (let k = 0; k < SITES; k++) {
        if (collecting && collecting.kind === 'collecting' && k === collecting.after) {
          const d = await driverOf(c, store, fid);
          await c.signal(d, 'SIGKILL');
          await afterDeath(d, `round ${round}: SIGKILL while collecting after ${k} uploads`);
        }
        if (k === SITES - 1 && last) {
          const d = await driverOf(c, store, fid);
          if (last.kind === 'aggregating') c.arm(d, 'round.aggregating');
          else if (last.kind === 'publishing') c.arm(d, last.point);
          else if (last.kind === 'paused') {
            c.replicas[d]!.child!.proc.kill('SIGSTOP');
            paused = d;
          } else if (last.kind === 'redis-cut' && redisProxy) {
            redisProxy.setBackend(0, { host: '127.0.0.1', port: await freePort() });
            redisProxy.cutAll();
            for (const r of c.replicas)
              await until(async () => (await readyz(r.port)).push === 'degraded', {
                timeoutMs: 20_000,
                what: `${r.id} sees Redis gone`,
              });
            log.push(`round ${round}: Redis cut from every replica (push degraded)`);
          }
          if (last.kind === 'aggregating' || last.kind === 'publishing') {
            const point = last.kind === 'aggregating' ? 'round.aggregating' : last.point;
            await deliver(order[k]!, round);
            await afterDeath(d, `round ${round}: died at ${point}`);
            continue;
          }
        }
        await deliver(order[k]!, round);
      }
      const next = round === ROUNDS ? null : round + 1;
      await until(
        async () => {
          const f = await fed();
          return next === null ? f.state === 'completed' : f.currentRound === next;
        },
        { timeoutMs: 60_000, what: `round ${round} published` },
      );
      if (paused >= 0) {
        const stopped = c.replicas[paused]!;
        const holder = store ? (await store.getLease(`driver:${fid}`))?.holder : stopped.id;
        expect(holder).not.toBe(stopped.id); // another replica took over and published the round
        stopped.child!.proc.kill('SIGCONT');
        await until(() => stopped.child!.lines.some((l) => l.includes(fid) && /driver lease lost/.test(l)), {
          timeoutMs: 20_000,
          what: `${stopped.id} notices it lost the lease`,
        });
        log.push(`round ${round}: driver paused past its lease (${stopped.id}), ${holder} took over, resumed`);
      }
      if (last?.kind === 'redis-cut' && redisProxy && o.redis) {
        redisProxy.setBackend(0, { host: '127.0.0.1', port: Number(new URL(o.redis.url).port || 6379) });
        for (const r of c.replicas)
          await until(async () => (await readyz(r.port)).push === 'redis', {
            timeoutMs: 20_000,
            what: `${r.id} back on Redis`,
          });
      }
    }
    const f = await fed();
    expect(f.state).toBe('completed');
    const versions = await c.admin.listModels({ federationId: fid });
    expect(versions.map((v) => v.round)).toEqual(Array.from({ length: ROUNDS + 1 }, (_, i) => i));
    versions.slice(1).forEach((v, i) => expect(v.parentVersionId).toBe(versions[i]!.id)); // one lineage
    for (const v of versions.slice(1)) expect((v.meta.contributors as unknown[]).length).toBe(SITES);
    if (store) {
      acksChecked += (await checkStore(store, acks())).acksChecked;
      const audit = await store.listAudit({ limit: 100_000 });
      const roundsOf = (action: string) =>
        audit
          .filter((e) => e.action === action && (e.detail as { federationId?: string }).federationId === fid)
          .map((e) => (e.detail as { round: number }).round)
          .sort((a, b) => a - b);
      const each = Array.from({ length: ROUNDS }, (_, i) => i + 1);
      expect(roundsOf('round.open')).toEqual(each); // no round opened twice,
      expect(roundsOf('round.close')).toEqual(each); // closed (aggregated) twice,
      expect(roundsOf('version.publish')).toEqual([0, ...each]); // or published twice
    }
    const finalWeights = Buffer.from((await c.admin.downloadWeights(f.latestVersionId!)).bytes);
    return { finalWeights, log, kills, acksChecked };
  } finally {
    await c.close();
    await redisProxy?.close();
  }
}

function describeError(e: unknown): string {
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error ? `${String(e)} (${cause.message})` : String(e);
}

async function readyz(port: number): Promise<{ push?: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
  return (await res.json()) as { push?: string };
}

describe('three coordinator replicas on PostgreSQL and Redis: the driver dies at seeded moments', () => {
  const dirs: string[] = [];
  const schema = freshSchema('tf_replica_kill');
  const tmp = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-replicas-'));
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    await dropPgSchema(schema);
  });

  test('the federation completes with every acknowledged upload, each round aggregated once, bit-identical to one SQLite coordinator', async () => {
    const redisUrl = await requireRedis();
    const t0 = Date.now();
    const refDir = tmp();
    const reference = await runFederation({
      workDir: refDir,
      storeUrl: path.join(refDir, 'coordinator.db'),
      replicas: 1,
      faults: new Map(),
    });
    const t1 = Date.now();
    const plan = faults(SEED);
    const storeUrl = `${pgTestUrl()}?schema=${schema}`;
    const checker = await PostgresStore.open({ url: pgTestUrl(), schema, poolSize: 2 });
    let run: RunResult;
    try {
      run = await runFederation({
        workDir: tmp(),
        storeUrl,
        replicas: 3,
        redis: { url: redisUrl, prefix: uniqueRedisPrefix('replica-kill') },
        faults: plan,
        checkStore: checker,
      });
    } finally {
      await checker.close();
    }
    const count = (re: RegExp) => run.log.filter((l) => re.test(l)).length;
    expect(count(/while collecting/)).toBe(5);
    expect(count(/died at round\.aggregating/)).toBe(5);
    expect(count(/died at (version\.published|round\.created)/)).toBe(5);
    expect(count(/paused past its lease/)).toBe(1);
    expect(count(/Redis cut/)).toBe(1);
    expect(run.kills).toBe(15);
    expect(run.acksChecked).toBeGreaterThan(0);
    expect(run.finalWeights.equals(reference.finalWeights)).toBe(true);
    process.stdout.write(
      `replica kill test: one SQLite coordinator ${t1 - t0} ms; three replicas with ${run.kills} kills, a pause and a Redis cut ${Date.now() - t1} ms; ${run.acksChecked} acknowledged-upload checks\n  ${run.log.join('\n  ')}\n`,
    );
  }, 600_000);
});
