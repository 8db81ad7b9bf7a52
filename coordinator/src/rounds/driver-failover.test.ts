import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '@twinfed/shared';
import { SqliteStore, type Store } from '../store';
import { dropPgSchema, freshSchema, openPgStore } from '../store/__tests__/pg';
import { DriverLeases } from './driver-leases';
import type { RoundEngine } from './engine';
import { PlanSchema, planDigest } from '@twinfed/shared';
import { engineFixture, fixturePlan } from './__tests__/engine-fixture';

/**
 * The lease's lifetime: renewed every TTL/3, so a holder keeps it through event-loop stalls shorter than 2·TTL/3. At
 * 400 ms the PostgreSQL case lost its fresh lease during createFederation on a loaded machine (2 failures in ~10 runs).
 */
const TTL = 1500;
const POLL = 50;

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The lease calls of a replica, cut off on demand (as a replica that stopped or lost the store): they reject. */
function severable(store: Store) {
  let cut = false;
  const check = () => {
    if (cut) throw new Error('cut off');
  };
  return {
    set cut(v: boolean) {
      cut = v;
    },
    store: {
      listFederations: async () => (check(), store.listFederations()),
      acquireLease: async (i: Parameters<Store['acquireLease']>[0]) => (check(), store.acquireLease(i)),
      renewLease: async (i: Parameters<Store['renewLease']>[0]) => (check(), store.renewLease(i)),
      releaseLease: async (i: Parameters<Store['releaseLease']>[0]) => (check(), store.releaseLease(i)),
      getLease: async (name: string) => (check(), store.getLease(name)),
    },
  };
}

/** Two stores on one database, as two replicas open them: [A, B]. */
type OpenTwo = (dir: string) => Promise<[Store, Store]>;

const BACKENDS: Array<[string, OpenTwo, (dir: string) => Promise<void>]> = [
  [
    'one SQLite file',
    async (dir) => {
      const file = path.join(dir, 'coordinator.db');
      return [await SqliteStore.open({ path: file }), await SqliteStore.open({ path: file })];
    },
    async () => undefined,
  ],
  [
    'one PostgreSQL schema (two pools)',
    async (dir) => {
      const schema = freshSchema('tf_failover');
      fs.writeFileSync(path.join(dir, 'schema'), schema);
      return [await openPgStore(schema, 4), await openPgStore(schema, 4)];
    },
    async (dir) => {
      const file = path.join(dir, 'schema');
      if (fs.existsSync(file)) await dropPgSchema(fs.readFileSync(file, 'utf8'));
    },
  ],
];

/** Two replicas (engine + driver leases) on two stores of one database, sharing one set of sites. */
async function cluster(dir: string, openTwo: OpenTwo) {
  const [storeA, storeB] = await openTwo(dir);
  const fx = await engineFixture({ sites: 3, store: storeA });
  const replica = (store: Store, holder: string) => {
    const link = severable(store);
    let engine: RoundEngine | null = null;
    const leases = new DriverLeases({
      store: link.store,
      holder,
      ttlMs: TTL,
      pollMs: POLL,
      logger: silentLogger(),
      onAcquired: (fid, how) => engine!.takeOver(fid, how),
      onLost: (fid) => engine!.release(fid),
      onTick: (fid) => engine!.poll(fid),
    });
    engine = fx.engine({ deps: { store, driver: leases } });
    return { engine, leases, link };
  };
  const a = replica(storeA, 'replica-a');
  const b = replica(storeB, 'replica-b');
  return { fx, storeA, storeB, a, b };
}

describe.each(BACKENDS)('two coordinator engines on %s: one driver per federation', (_name, openTwo, dropAll) => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-failover-'));
  });
  afterEach(async () => {
    await dropAll(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the driver stops; the other replica takes over, completes the round from the stored updates, nothing is aggregated twice', async () => {
    const reference = await (async () => {
      const fx = await engineFixture({ sites: 3 });
      const e = fx.engine();
      const fed = await e.createFederation(fixturePlan(), 'test');
      await fx.drive(e, fed.id);
      e.close();
      return fx.finalBytes(fed.id);
    })();

    const { fx, storeA, storeB, a, b } = await cluster(dir, openTwo);
    try {
      await a.leases.start();
      const fid = (await a.engine.createFederation(fixturePlan(), 'test')).id;
      await b.leases.start();
      expect(a.leases.drives(fid)).toBe(true);
      expect(b.leases.drives(fid)).toBe(false);
      const [siteA, siteB, siteC] = fx.sites as [(typeof fx.sites)[0], (typeof fx.sites)[0], (typeof fx.sites)[0]];

      // Any replica accepts uploads; the driver notices one stored by the other on its poll.
      expect((await fx.upload(b.engine, fid, siteA)).status).toBe('accepted');
      await waitFor(async () => (await storeA.getRound(fid, 1))!.state === 'collecting', 'round 1 collecting');

      // The driver stops (its timers and its link to the lease table): nobody drives round 1 for a while.
      a.engine.close();
      a.link.cut = true;
      expect((await fx.upload(b.engine, fid, siteB)).status).toBe('accepted');
      expect((await fx.upload(b.engine, fid, siteC)).status).toBe('accepted');
      const stoppedAt = Date.now();
      await waitFor(async () => (await storeB.getRound(fid, 1))!.state === 'published', 'round 1 published by b');
      process.stdout.write(
        `in-process failover: round 1 published by the other replica ${Date.now() - stoppedAt} ms after the driver stopped (TTL ${TTL} ms, poll ${POLL} ms)\n`,
      );
      // Publishing and opening the next round are two steps of the new driver: wait for both.
      await waitFor(async () => (await storeB.getRound(fid, 2)) !== null, 'round 2 opened by b');
      expect(b.leases.drives(fid)).toBe(true);
      expect(await storeB.getLease(`driver:${fid}`)).toMatchObject({ holder: 'replica-b', token: 2 });

      // The old driver comes back: its renewal fails and it stops driving; its old token is refused by the store.
      const staleFence = a.leases.fence(fid);
      a.link.cut = false;
      await waitFor(async () => !a.leases.drives(fid) && !a.leases.driven.includes(fid), 'a lets go');
      await expect(
        storeA.transitionRound({ federationId: fid, round: 2, from: ['open'], to: 'aggregating', fence: staleFence }),
      ).rejects.toMatchObject({ code: 'LEASE_LOST' });

      await fx.drive(b.engine, fid);
      await waitFor(async () => (await storeB.getFederation(fid))!.state === 'completed', 'federation completed');

      const versions = await storeB.listVersions({ federationId: fid });
      expect(versions.map((v) => v.round)).toEqual([0, 1, 2, 3]);
      const audit = await storeB.listAudit({ limit: 10_000 });
      const count = (action: string) =>
        audit.filter((e) => e.action === action).map((e) => (e.detail as { round?: number }).round ?? -1);
      expect(count('round.close').sort()).toEqual([1, 2, 3]);
      expect(count('version.publish').sort()).toEqual([0, 1, 2, 3]);
      // Resumed from the stored updates, the aggregate is the one an uninterrupted single engine computes.
      expect(await fx.finalBytes(fid)).toEqual(reference);
    } finally {
      a.engine.close();
      b.engine.close();
      await a.engine.drain();
      await b.engine.drain();
      await a.leases.stop().catch(() => undefined);
      await b.leases.stop();
      await storeA.close();
      await storeB.close();
    }
  }, 60_000);

  test('decisions and a plan amendment stored through another replica reach the driver: it opens the round', async () => {
    const { storeA, storeB, a, b } = await cluster(dir, openTwo);
    try {
      await a.leases.start();
      await b.leases.start();
      const plan = fixturePlan({ rounds: 1, minSites: 2, governance: { requireApprovals: true } });
      const fid = (await a.engine.createFederation(plan, 'test')).id;
      const digest = async () => planDigest(PlanSchema.parse((await storeB.getFederation(fid))!.plan));
      for (const siteId of ['site-a', 'site-c'])
        await b.engine.recordDecision({ federationId: fid, siteId, decision: 'approved', planSha256: await digest() });
      await waitFor(async () => (await storeA.getRound(fid, 1)) !== null, 'round 1 opened by the driver');
      expect((await storeA.getRound(fid, 1))!.selectedSiteIds).toEqual(['site-a', 'site-c']);

      const amended = (await b.engine.createFederation(plan, 'test')).id; // B created it: B drives this one
      expect(b.leases.drives(amended)).toBe(true);
      await a.engine.amendPlan(amended, fixturePlan({ rounds: 1, minSites: 2 }), 'test'); // amended through A
      await waitFor(async () => (await storeB.getRound(amended, 1)) !== null, 'round 1 opened after the amendment');
      expect((await storeB.getRound(amended, 1))!.selectedSiteIds).toHaveLength(3);
    } finally {
      a.engine.close();
      b.engine.close();
      await a.engine.drain();
      await b.engine.drain();
      await a.leases.stop();
      await b.leases.stop();
      await storeA.close();
      await storeB.close();
    }
  }, 30_000);
});
