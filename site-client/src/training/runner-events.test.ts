import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initialWeights, type ServerToClientEvents } from '@twinfed/shared';
import { FakeCoordinator, testEnrollment } from '../__tests__/fake-coordinator';
import { APPROVE_EVERY_PLAN, fakeModelOps, siteRecords, syntheticDataset } from '../__tests__/fixtures';
import { SiteRunner } from './runner';
import type { ConnectionListener } from '../transport/event-stream';
import type { PushSource } from './runner-options';

/** A push source the test drives by hand. */
class ManualPush implements PushSource {
  private readonly handlers = new Map<string, Array<(e: never) => void>>();
  on<E extends keyof ServerToClientEvents>(event: E, handler: ServerToClientEvents[E]): () => void {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
    return () => undefined;
  }
  onConnection(_listener: ConnectionListener): () => void {
    return () => undefined;
  }
  start(): void {}
  close(): void {}
  async reportStatus(): Promise<unknown> {
    return undefined;
  }
  emit<E extends keyof ServerToClientEvents>(event: E, e: Parameters<ServerToClientEvents[E]>[0]): void {
    for (const h of this.handlers.get(event) ?? []) h(e as never);
  }
}

/** A push source whose connection the test drives too: down until {@link connect}. */
class ConnectingPush extends ManualPush {
  private readonly connectionListeners = new Set<ConnectionListener>();
  private up = false;
  /** Called by the runner's start(); the test connects the socket from here when it likes. */
  onStart: () => void = () => undefined;
  get connected(): boolean {
    return this.up;
  }
  override onConnection(listener: ConnectionListener): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }
  override start(): void {
    this.onStart();
  }
  connect(): void {
    this.up = true;
    for (const l of this.connectionListeners) l({ connected: true });
  }
  refuse(): void {
    this.up = false;
    for (const l of this.connectionListeners) l({ connected: false, reason: 'UNAUTHENTICATED' });
  }
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A runner of a site not selected for rounds, with hand-driven push events, once it evaluated v0. */
async function started<P extends ManualPush = ManualPush>(o: {
  coordinator: FakeCoordinator;
  versionGraceMs: number;
  events?: P;
  connectWaitMs?: number;
}) {
  const { coordinator } = o;
  const enrollment = testEnrollment(coordinator.identity);
  coordinator.trust(enrollment);
  coordinator.selected = false;
  const events = o.events ?? (new ManualPush() as P);
  const r = new SiteRunner({
    federationId: coordinator.federationId,
    enrollment,
    api: coordinator,
    events,
    dataset: syntheticDataset(),
    ...siteRecords(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-runner-events-'))),
    policy: APPROVE_EVERY_PLAN,
    pollIntervalMs: 60_000,
    versionGraceMs: o.versionGraceMs,
    ...(o.connectWaitMs === undefined ? {} : { connectWaitMs: o.connectWaitMs }),
    modelOps: fakeModelOps(),
  });
  const done = r.run();
  await until(() => coordinator.evaluations.some((e) => e.versionId === 'v0'));
  const fid = coordinator.federationId;
  return {
    events,
    done,
    polls: () => coordinator.calls.filter((c) => c === 'currentRound').length,
    /** The requests for v1 other than its evaluation. */
    fetchedV1: () => coordinator.calls.filter((c) => c.endsWith(':v1') && !c.startsWith('evaluate')),
    publishV1: () => {
      coordinator.publish({
        versionId: 'v1',
        round: 1,
        weights: initialWeights(coordinator.plan.model, 2),
        parent: 'v0',
      });
      events.emit('model:published', { federationId: fid, round: 1, versionId: 'v1' });
    },
    end: async () => {
      coordinator.state = 'completed';
      events.emit('federation:ended', { federationId: fid, state: 'completed' });
      await expect(done).resolves.toMatchObject({ state: 'completed' });
    },
    stop: async () => {
      r.stop();
      r.stop();
      await done.catch(() => undefined);
    },
  };
}

describe('SiteRunner and push events', () => {
  test('a round version comes with the rounds/current that the next round:opened asks for: nothing else is asked for it', async () => {
    const coordinator = new FakeCoordinator();
    const s = await started({ coordinator, versionGraceMs: 60_000 });
    try {
      const before = s.polls();
      s.publishV1();
      coordinator.round = 2;
      coordinator.baseVersionId = 'v1';
      s.events.emit('round:opened', {
        federationId: coordinator.federationId,
        round: 2,
        baseVersionId: 'v1',
        deadlineAt: new Date(Date.now() + 60_000).toISOString(),
      });
      await until(() => coordinator.evaluations.some((e) => e.versionId === 'v1'));
      expect(s.polls()).toBe(before + 1);
      expect(s.fetchedV1()).toEqual([]);
      expect(coordinator.servedWithRound).toEqual(['v0', 'v1']);
      await s.end();
      // The last poll said the site holds v1: not sent again.
      expect(coordinator.servedWithRound).toEqual(['v0', 'v1']);
    } finally {
      await s.stop();
    }
  });

  test('a round:opened that arrived while the site was busy past the grace wins over the grace: the version comes with its rounds/current', async () => {
    const coordinator = new FakeCoordinator();
    const s = await started({ coordinator, versionGraceMs: 20 });
    try {
      const before = s.polls();
      s.publishV1();
      coordinator.round = 2;
      coordinator.baseVersionId = 'v1';
      // Due with the grace's timer, after it: both come up in the same turn of the event loop once the site is free.
      setTimeout(
        () =>
          s.events.emit('round:opened', {
            federationId: coordinator.federationId,
            round: 2,
            baseVersionId: 'v1',
            deadlineAt: new Date(Date.now() + 60_000).toISOString(),
          }),
        20,
      );
      const busyUntil = Date.now() + 60;
      while (Date.now() < busyUntil); // the site's process busy (its other work) past the grace
      await until(() => coordinator.evaluations.some((e) => e.versionId === 'v1'));
      expect(s.fetchedV1()).toEqual([]);
      expect(s.polls()).toBe(before + 1);
    } finally {
      await s.stop();
    }
  });

  test("a version announced while the site was still in its round (the answer to its update came after) waits for its grace: it goes on the next round's update, not downloaded on its own", async () => {
    const coordinator = new FakeCoordinator();
    const enrollment = testEnrollment(coordinator.identity);
    coordinator.trust(enrollment);
    const events = new ManualPush();
    const fid = coordinator.federationId;
    const upload = coordinator.uploadUpdate.bind(coordinator);
    coordinator.uploadUpdate = async (opts) => {
      const ack = await upload(opts);
      // The round's last update: the coordinator publishes and announces before its answer reaches the site, and
      // opens the next round a moment later.
      events.emit('model:published', { federationId: fid, round: opts.round, versionId: `v${opts.round}` });
      const next = { round: coordinator.round, baseVersionId: coordinator.baseVersionId, state: coordinator.state };
      setTimeout(() => {
        if (next.state === 'running')
          events.emit('round:opened', {
            federationId: fid,
            round: next.round,
            baseVersionId: next.baseVersionId,
            deadlineAt: new Date(Date.now() + 60_000).toISOString(),
          });
        else events.emit('federation:ended', { federationId: fid, state: next.state });
      }, 20);
      return ack;
    };
    const r = new SiteRunner({
      federationId: fid,
      enrollment,
      api: coordinator,
      events,
      dataset: syntheticDataset(),
      ...siteRecords(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-runner-events-'))),
      policy: APPROVE_EVERY_PLAN,
      pollIntervalMs: 60_000,
      versionGraceMs: 60_000,
      modelOps: fakeModelOps(),
    });
    try {
      await expect(r.run()).resolves.toMatchObject({ state: 'completed' });
      // v1 travelled on round 2's update: neither downloaded nor posted on its own.
      expect(coordinator.calls.filter((c) => c.endsWith(':v1'))).toEqual([]);
      expect(coordinator.updates.find((u) => u.round === 2)?.baseEvaluation).toBeDefined();
      expect(coordinator.evaluations.filter((e) => e.versionId === 'v1')).toHaveLength(1);
    } finally {
      r.stop();
      r.stop();
    }
  });

  test("a version's grace that ran out while a rounds/current was on its way (which brought the version) wakes nothing: the next version announced waits for its own grace", async () => {
    const coordinator = new FakeCoordinator();
    const s = await started({ coordinator, versionGraceMs: 200 });
    const poll = coordinator.currentRoundWithVersion!.bind(coordinator);
    let slow = false;
    coordinator.currentRoundWithVersion = async (fid, o) => {
      const answer = await poll(fid, o);
      if (slow) await new Promise((r) => setTimeout(r, 600)); // a busy coordinator: v1's grace runs out meanwhile
      slow = false;
      return answer;
    };
    try {
      slow = true;
      s.publishV1();
      coordinator.round = 2;
      coordinator.baseVersionId = 'v1';
      s.events.emit('round:opened', {
        federationId: coordinator.federationId,
        round: 2,
        baseVersionId: 'v1',
        deadlineAt: new Date(Date.now() + 60_000).toISOString(),
      });
      // v2 is announced while that poll is on its way (after the site's tick began): its grace has just begun.
      setTimeout(() => {
        coordinator.publish({
          versionId: 'v2',
          round: 2,
          weights: initialWeights(coordinator.plan.model, 3),
          parent: 'v1',
        });
        s.events.emit('model:published', { federationId: coordinator.federationId, round: 2, versionId: 'v2' });
      }, 500);
      await until(() => coordinator.evaluations.some((e) => e.versionId === 'v1'));
      await s.end(); // within v2's grace: the federation's end brings v2 with its rounds/current
      expect(s.fetchedV1()).toEqual([]);
      expect(coordinator.calls.filter((c) => c.endsWith(':v2') && !c.startsWith('evaluate'))).toEqual([]);
      expect(coordinator.servedWithRound.slice(-2)).toEqual(['v1', 'v2']);
      expect(coordinator.evaluations.filter((e) => e.versionId === 'v2')).toHaveLength(1);
    } finally {
      await s.stop();
    }
  });

  test('a version no other event follows is downloaded once the grace is over, without asking for rounds/current again', async () => {
    const coordinator = new FakeCoordinator();
    const s = await started({ coordinator, versionGraceMs: 50 });
    try {
      const before = s.polls();
      s.publishV1();
      await until(() => coordinator.evaluations.some((e) => e.versionId === 'v1'));
      expect(s.polls()).toBe(before);
      expect(s.fetchedV1()).toEqual(['download:v1']);
      await s.end();
      expect(s.polls()).toBe(before + 1);
    } finally {
      await s.stop();
    }
  });

  test('at a coordinator without rounds/current/download a version is downloaded as it is announced, from the id the event carries', async () => {
    const coordinator = new FakeCoordinator();
    coordinator.currentRoundWithVersion = undefined;
    const s = await started({ coordinator, versionGraceMs: 60_000 });
    try {
      const before = s.polls();
      s.publishV1();
      await until(() => coordinator.evaluations.some((e) => e.versionId === 'v1'));
      expect(s.polls()).toBe(before);
      // Each download verifies the signature once: one request for v1, its signed metadata and weights together.
      expect(s.fetchedV1()).toEqual(['download:v1']);
      await s.end();
      expect(s.polls()).toBe(before + 1);
    } finally {
      await s.stop();
    }
  });

  describe('the first rounds/current and the socket', () => {
    test('waits for the socket to connect: the connection needs no catch-up poll of its own', async () => {
      const coordinator = new FakeCoordinator();
      const events = new ConnectingPush();
      // The socket connects a moment after the runner opened it (without the wait the first poll has gone by then).
      events.onStart = () => void setImmediate(() => events.connect());
      const socketUpAtPoll: boolean[] = [];
      const poll = coordinator.currentRoundWithVersion!;
      coordinator.currentRoundWithVersion = (fid, options) => {
        socketUpAtPoll.push(events.connected);
        return poll(fid, options);
      };
      const s = await started({ coordinator, versionGraceMs: 60_000, events, connectWaitMs: 60_000 });
      try {
        await new Promise((r) => setTimeout(r, 50)); // room for a second poll, were one to come
        expect(socketUpAtPoll).toEqual([true]);
        await s.end();
        // The first poll and the one for federation:ended; none for the connection, made before the first poll.
        expect(socketUpAtPoll).toEqual([true, true]);
      } finally {
        await s.stop();
      }
    });

    test('polls without the socket once the wait is over, and polls again when the socket connects: what it missed meanwhile arrives', async () => {
      const coordinator = new FakeCoordinator();
      const events = new ConnectingPush();
      const s = await started({ coordinator, versionGraceMs: 60_000, events, connectWaitMs: 10 });
      try {
        expect(s.polls()).toBe(1);
        // A version and a round while the socket was not subscribed: their events never reach the site.
        coordinator.publish({
          versionId: 'v1',
          round: 1,
          weights: initialWeights(coordinator.plan.model, 2),
          parent: 'v0',
        });
        coordinator.round = 2;
        coordinator.baseVersionId = 'v1';
        events.connect();
        await until(() => coordinator.evaluations.some((e) => e.versionId === 'v1'));
        expect(s.polls()).toBe(2);
        expect(s.fetchedV1()).toEqual([]);
      } finally {
        await s.stop();
      }
    });

    test('a socket refused at once does not hold the first poll back, and its later connection brings the catch-up poll', async () => {
      const coordinator = new FakeCoordinator();
      const events = new ConnectingPush();
      events.onStart = () => void setImmediate(() => events.refuse());
      // The wait would outlast the test: only the refusal can end it.
      const s = await started({ coordinator, versionGraceMs: 60_000, events, connectWaitMs: 600_000 });
      try {
        expect(s.polls()).toBe(1);
        coordinator.publish({
          versionId: 'v1',
          round: 1,
          weights: initialWeights(coordinator.plan.model, 2),
          parent: 'v0',
        });
        events.connect();
        await until(() => coordinator.evaluations.some((e) => e.versionId === 'v1'));
        expect(s.polls()).toBe(2);
      } finally {
        await s.stop();
      }
    });
  });
});
