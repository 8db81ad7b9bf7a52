import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dropPostgresSchema, PostgresStore, SqliteStore } from '@twinfed/coordinator';
import { freshSchema, pgTestUrl } from '@twinfed/coordinator/store/__tests__/pg';
import type { Child } from '../support/processes';
import { stop } from '../support/processes';
import { freePort } from '../support/net';
import { adminOf, checkDatabase, spawnCoordinator, until } from './__tests__/coordinator-process';
import { LightSite, lightPlan } from './__tests__/light-site';
import { OPERATOR_TOKEN_FILE } from '../support/operator-token';

const SITES = 3;
const ROUNDS = 3;
const TTL_MS = 2000;
const POLL_MS = 200;

/** Where the two replicas keep their state, and how the test reads it afterwards. */
interface Backend {
  /** A's and B's data dirs (the same one for SQLite: one file; for PostgreSQL: two dirs with the same key files). */
  dirs(): [string, string];
  /** Extra environment of both replicas. */
  env: Record<string, string>;
  /** Called once A has started (and created the keys): B's data dir gets what it needs. */
  afterFirstStart(a: string, b: string): void;
  open(a: string): Promise<SqliteStore>;
  cleanup(): Promise<void>;
}

function sqliteBackend(): Backend {
  let dir = '';
  return {
    dirs: () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-lease-'));
      return [dir, dir];
    },
    env: {},
    afterFirstStart: () => undefined,
    open: (a) => SqliteStore.open({ path: path.join(a, 'coordinator.db') }),
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

function postgresBackend(): Backend {
  const schema = freshSchema('tf_fault');
  const url = pgTestUrl();
  const made: string[] = [];
  return {
    dirs: () => {
      const two = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-lease-pg-')));
      made.push(...two);
      return two as [string, string];
    },
    env: { TWINFED_STORE_URL: `${url}${url.includes('?') ? '&' : '?'}schema=${schema}` },
    // Replicas on two hosts: each has its own data dir, holding copies of the same key files.
    afterFirstStart: (a, b) => {
      for (const f of ['coordinator.key.json', OPERATOR_TOKEN_FILE])
        fs.copyFileSync(path.join(a, f), path.join(b, f), fs.constants.COPYFILE_EXCL);
      fs.chmodSync(path.join(b, 'coordinator.key.json'), 0o600);
    },
    open: async () => await PostgresStore.open({ url, schema }),
    cleanup: async () => {
      made.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
      await dropPostgresSchema(url, schema);
    },
  };
}

/** A replica with its own replica id and port. */
function replica(o: { dataDir: string; port: number; id: string; env: Record<string, string> }): Child {
  return spawnCoordinator({
    dataDir: o.dataDir,
    port: o.port,
    logLevel: 'info',
    env: {
      TWINFED_REPLICA_ID: o.id,
      TWINFED_DRIVER_LEASE_TTL_MS: String(TTL_MS),
      TWINFED_CATCH_UP_POLL_MS: String(POLL_MS),
      ...o.env,
    },
  });
}

async function healthy(port: number): Promise<void> {
  await until(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, {
    timeoutMs: 30_000,
    what: `coordinator on ${port}`,
  });
}

/** The log lines of a replica about one federation's driver lease. */
const leaseLines = (c: Child, fid: string, msg: RegExp) =>
  c.lines.filter((l) => l.includes(fid) && msg.test(l)).map((l) => JSON.parse(l) as { fencingToken: number });

describe.each([
  ['one SQLite file', sqliteBackend],
  ['one PostgreSQL schema, two data dirs', postgresBackend],
])('two coordinator processes on %s: the driver is paused past its lease', (_name, makeBackend) => {
  const backend = makeBackend();
  afterAll(() => backend.cleanup());

  test('the other replica takes over and completes the federation; the paused one, resumed, changes nothing', async () => {
    const [dataDir, dataDirB] = backend.dirs();
    const [portA, portB] = [await freePort(), await freePort()];
    const a = replica({ dataDir, port: portA, id: 'replica-a', env: backend.env });
    const sites: LightSite[] = [];
    let b: Child | null = null;
    try {
      await healthy(portA); // the first start creates the keys and the operator token
      backend.afterFirstStart(dataDir, dataDirB);
      b = replica({ dataDir: dataDirB, port: portB, id: 'replica-b', env: backend.env });
      await healthy(portB);
      const adminA = adminOf({ dataDir, port: portA });
      const adminB = adminOf({ dataDir: dataDirB, port: portB });
      const urlB = `http://127.0.0.1:${portB}`;
      for (let i = 0; i < SITES; i++) {
        const inv = await adminA.createInvitation({ siteName: `Site ${String.fromCharCode(65 + i)}` });
        sites.push(await LightSite.enroll({ index: i, token: inv.token, url: () => urlB }));
      }
      // Created on A: A takes the new federation's lease and drives it (round 1 opens, its deadline is armed).
      const plan = lightPlan({ name: 'lease test', rounds: ROUNDS, minSites: SITES, roundDeadlineSeconds: 8, seed: 3 });
      const fid = (await adminA.createFederation(plan)).id;
      await until(() => leaseLines(a, fid, /driver lease taken/).length === 1, { timeoutMs: 10_000, what: 'A drives' });
      expect(leaseLines(b, fid, /driver lease taken/)).toEqual([]);

      /** The site uploads its update of round `n` (through B), looking again until B acknowledged it. */
      const deliver = (site: LightSite, n: number) =>
        until(async () => (await site.step(fid), site.acks.some((k) => k.round === n)), {
          timeoutMs: 30_000,
          what: `${site.siteId}'s upload of round ${n}`,
        });
      const fed = () => adminB.getFederation(fid);

      // Pause the driver. Its lease runs out; the sites, talking to B, upload round 1; B takes over and closes it.
      const pausedAt = Date.now();
      a.proc.kill('SIGSTOP');
      for (const site of sites) await deliver(site, 1);
      await until(() => leaseLines(b!, fid, /driver lease taken/).length === 1, {
        timeoutMs: 30_000,
        what: 'B takes the lease over',
      });
      const takeoverMs = Date.now() - pausedAt;
      await until(async () => (await fed()).currentRound === 2, { timeoutMs: 30_000, what: 'round 1 published by B' });
      await deliver(sites[0]!, 2);
      await deliver(sites[1]!, 2); // round 2 now waits for its third site

      // Resume the paused driver while B drives round 2 (A's renewal is overdue): it must let go and write nothing.
      a.proc.kill('SIGCONT');
      await until(() => a.lines.some((l) => l.includes(fid) && /driver lease lost/.test(l)), {
        timeoutMs: 15_000,
        what: 'A notices it lost the lease',
      });
      await new Promise((r) => setTimeout(r, 3 * POLL_MS + TTL_MS / 3)); // a few more of A's ticks and timers
      expect((await adminA.getFederation(fid)).currentRound).toBe(2); // A serves what the store holds
      expect((await adminB.listModels({ federationId: fid })).map((v) => v.round)).toEqual([0, 1]);

      await deliver(sites[2]!, 2);
      await until(async () => (await fed()).currentRound === 3, { timeoutMs: 30_000, what: 'round 2 published' });
      for (const site of sites) await deliver(site, 3);
      await until(async () => (await fed()).state === 'completed', {
        timeoutMs: 30_000,
        what: 'the federation completes on B',
      });
      const completedMs = Date.now() - pausedAt;
      expect(leaseLines(a, fid, /driver lease taken/)).toHaveLength(1);
      expect(leaseLines(b, fid, /driver lease taken/)).toEqual([expect.objectContaining({ fencingToken: 2 })]);
      expect(
        a.lines.filter((l) => /model version published|round opened|round failed/.test(l) && l.includes(fid)),
      ).toHaveLength(1); // A opened round 1 before the pause, and did nothing after
      process.stdout.write(
        `lease fault test: TTL ${TTL_MS} ms, poll ${POLL_MS} ms; B took over ${takeoverMs} ms after the driver was paused; federation (${ROUNDS} rounds) completed ${completedMs} ms after the pause\n`,
      );

      await stop(a);
      await stop(b);
      const acks = sites.flatMap((s) => s.acks);
      expect((await checkDatabase({ dataDir, acks, open: () => backend.open(dataDir) })).versions).toBe(ROUNDS + 1);
      const db = await backend.open(dataDir);
      try {
        const versions = await db.listVersions({ federationId: fid });
        expect(versions.map((v) => v.round)).toEqual([0, 1, 2, 3]);
        versions.slice(1).forEach((v, i) => expect(v.parentVersionId).toBe(versions[i]!.id)); // lineage intact
        const rounds = await db.listRounds(fid);
        expect(rounds.map((r) => [r.round, r.state, r.versionId])).toEqual(
          versions.slice(1).map((v) => [v.round, 'published', v.id]),
        );
        const audit = await db.listAudit({ limit: 10_000 });
        const roundsOf = (action: string) =>
          audit
            .filter((e) => e.action === action && (e.detail as { federationId?: string }).federationId === fid)
            .map((e) => (e.detail as { round: number }).round)
            .sort();
        expect(roundsOf('round.open')).toEqual([1, 2, 3]);
        expect(roundsOf('round.close')).toEqual([1, 2, 3]);
        expect(roundsOf('version.publish')).toEqual([0, 1, 2, 3]);
        expect(await db.getLease(`driver:${fid}`)).toMatchObject({ holder: 'replica-b', token: 2 });
      } finally {
        await db.close();
      }
    } finally {
      if (a.proc.signalCode === null && a.proc.exitCode === null) a.proc.kill('SIGCONT');
      await stop(a);
      if (b) await stop(b);
    }
  }, 150_000);
});
