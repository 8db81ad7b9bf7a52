/**
 * The runner records what the site did in its own audit chain: approved the plan (here by its policy), trained,
 * uploaded (digest), refused versions and data.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateIdentity, planDigest } from '@twinfed/shared';
import { FakeCoordinator, TEST_FEATURES, testEnrollment, testPlan } from '../__tests__/fake-coordinator';
import { APPROVE_EVERY_PLAN, fakeModelOps, syntheticDataset } from '../__tests__/fixtures';
import { SiteAuditLog } from '../audit/site-audit';
import type { LocalDataset } from './dataset';
import { Journal } from './journal';
import type { RunnerProgress } from './progress';
import { SiteRunner } from './runner';

function start(coordinator: FakeCoordinator, dataset: LocalDataset = syntheticDataset()) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-site-audit-run-'));
  const enrollment = testEnrollment(coordinator.identity);
  coordinator.trust(enrollment);
  const events: RunnerProgress[] = [];
  const audit = new SiteAuditLog(dir, () => `site:${enrollment.state.siteId}`);
  const journal = Journal.open(dir);
  const runner = new SiteRunner({
    federationId: coordinator.federationId,
    enrollment,
    api: coordinator,
    dataset,
    modelOps: fakeModelOps(),
    pollIntervalMs: 10,
    journal,
    audit,
    policy: APPROVE_EVERY_PLAN,
    onProgress: (e) => events.push(e),
  });
  return { runner, events, audit, journal };
}

async function waitFor(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const begun = Date.now();
  while (!cond()) {
    if (Date.now() - begun > timeoutMs) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("the site's audit chain during a run", () => {
  test('the approval of the plan (by policy), each trained round and each uploaded digest (the one the coordinator acknowledged) is chained', async () => {
    const coordinator = new FakeCoordinator();
    const { runner, audit, journal } = start(coordinator);
    await runner.run();
    const entries = audit.list();
    expect(entries.map((e) => `${e.action} ${e.subject}`)).toEqual([
      'plan.approved fed-1',
      'round.trained fed-1/1',
      'update.uploaded fed-1/1',
      'round.trained fed-1/2',
      'update.uploaded fed-1/2',
    ]);
    const uploads = journal.snapshot().uploads;
    expect(entries.filter((e) => e.action === 'update.uploaded').map((e) => e.detail.digest)).toEqual(
      uploads.map((u) => u.digest),
    );
    expect(entries[0]).toMatchObject({
      actor: 'site:site-a',
      detail: { federationId: 'fed-1', planSha256: planDigest(coordinator.plan), decidedBy: 'policy' },
    });
    expect(entries[1]).toMatchObject({
      actor: expect.stringMatching(/^site:/),
      detail: { federationId: 'fed-1', round: 1, baseVersionId: 'v0', numExamples: 40 },
    });
    expect(audit.verify().ok).toBe(true);
  });

  test('a refused model version is chained with its code', async () => {
    const coordinator = new FakeCoordinator();
    coordinator.tamper.signWith = generateIdentity();
    const { runner, events, audit } = start(coordinator);
    const done = runner.run();
    await waitFor(() => events.some((e) => e.type === 'model-rejected'));
    runner.stop();
    await done;
    expect(audit.list()).toContainEqual(
      expect.objectContaining({
        action: 'version.refused',
        subject: 'v0',
        detail: { federationId: 'fed-1', versionId: 'v0', code: 'MODEL_SIGNATURE_INVALID' },
      }),
    );
  });

  test('data refused by a guardrail are chained with the code (counts only, no rows)', async () => {
    const ds = syntheticDataset();
    const oneClass = {
      ...ds,
      train: { ...ds.train, y: ds.train.y.map(() => 0) },
      test: { ...ds.test, y: ds.test.y.map(() => 0) },
    };
    const { runner, audit } = start(new FakeCoordinator(testPlan({ data: { features: TEST_FEATURES } })), oneClass);
    await expect(runner.run()).rejects.toMatchObject({ code: 'DATA_SINGLE_CLASS' });
    expect(audit.list()).toEqual([
      expect.objectContaining({ action: 'plan.approved' }),
      expect.objectContaining({
        action: 'data.refused',
        subject: 'fed-1',
        detail: expect.objectContaining({
          code: 'DATA_SINGLE_CLASS',
          details: expect.objectContaining({ positive: 0 }),
        }),
      }),
    ]);
    expect(audit.verify().ok).toBe(true);
  });
});
