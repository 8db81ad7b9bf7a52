import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initialWeights, type ServerToClientEvents } from '@twinfed/shared';
import { FakeCoordinator, testEnrollment } from '../__tests__/fake-coordinator';
import { APPROVE_EVERY_PLAN, fakeModelOps, siteRecords, syntheticDataset } from '../__tests__/fixtures';
import { SiteRunner } from './runner';
import type { PushSource } from './runner-options';

/** A push source the test drives by hand. */
class ManualPush implements PushSource {
  private readonly handlers = new Map<string, Array<(e: never) => void>>();
  on<E extends keyof ServerToClientEvents>(event: E, handler: ServerToClientEvents[E]): () => void {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
    return () => undefined;
  }
  onConnection(): () => void {
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

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('SiteRunner and push events', () => {
  test('a model:published event is evaluated from the version id it carries, without asking for rounds/current again; other events poll', async () => {
    const coordinator = new FakeCoordinator();
    const enrollment = testEnrollment(coordinator.identity);
    coordinator.trust(enrollment);
    coordinator.selected = false;
    const events = new ManualPush();
    const r = new SiteRunner({
      federationId: coordinator.federationId,
      enrollment,
      api: coordinator,
      events,
      dataset: syntheticDataset(),
      ...siteRecords(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-runner-events-'))),
      policy: APPROVE_EVERY_PLAN,
      pollIntervalMs: 60_000,
      modelOps: fakeModelOps(),
    });
    const done = r.run();
    try {
      await until(() => coordinator.evaluations.some((e) => e.versionId === 'v0'));
      const polls = () => coordinator.calls.filter((c) => c === 'currentRound').length;
      const before = polls();

      coordinator.publish({
        versionId: 'v1',
        round: 1,
        weights: initialWeights(coordinator.plan.model, 2),
        parent: 'v0',
      });
      events.emit('model:published', { federationId: coordinator.federationId, round: 1, versionId: 'v1' });
      await until(() => coordinator.evaluations.some((e) => e.versionId === 'v1'));
      expect(polls()).toBe(before);
      // Each download verifies the signature once: one request for v1, its signed metadata and weights together.
      expect(coordinator.calls.filter((c) => c.endsWith(':v1') && !c.startsWith('evaluate'))).toEqual(['download:v1']);

      coordinator.state = 'completed';
      events.emit('federation:ended', { federationId: coordinator.federationId, state: 'completed' });
      await expect(done).resolves.toMatchObject({ state: 'completed' });
      expect(polls()).toBe(before + 1);
    } finally {
      r.stop();
      r.stop();
      await done.catch(() => undefined);
    }
  });
});
