import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initialWeights, planDigest, type Plan, type PlanInput } from '@twinfed/shared';
import { FakeCoordinator, TEST_FEATURES, testEnrollment, testPlan } from '../__tests__/fake-coordinator';
import { APPROVE_EVERY_PLAN, fakeModelOps, syntheticDataset } from '../__tests__/fixtures';
import { SiteAuditLog } from '../audit/site-audit';
import { Journal } from './journal';
import type { RunnerProgress } from './progress';
import { SiteRunner } from './runner';

/**
 * Issue 16, finding 6: the plan a site obeys arrives in `federation.plan`. The site trains only on a plan the pinned
 * coordinator key signed, never on one that changed after it took part, and never on versions signed for another plan
 * (its own policy and approvals: runner-governance.test.ts). These sites approve every plan by policy.
 */
function run(coordinator: FakeCoordinator, o: { dir?: string } = {}) {
  const dir = o.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-plan-'));
  const enrollment = testEnrollment(coordinator.identity);
  coordinator.trust(enrollment);
  const events: RunnerProgress[] = [];
  const ops = fakeModelOps();
  const runner = new SiteRunner({
    federationId: coordinator.federationId,
    enrollment,
    api: coordinator,
    dataset: syntheticDataset(),
    modelOps: ops,
    pollIntervalMs: 10,
    journal: Journal.open(dir),
    audit: new SiteAuditLog(dir, () => 'site:site-a'),
    policy: APPROVE_EVERY_PLAN,
    onProgress: (e) => events.push(e),
  });
  return { runner, promise: runner.run(), events, ops, dir };
}

const population = { k: 10 };
const plan = (over: Partial<PlanInput> = {}): Plan =>
  testPlan({ data: { features: TEST_FEATURES, normalization: 'per-site', population }, ...over });

/** Nothing left the site and nothing was trained: only `rounds/current` was asked. */
function nothingSent(c: FakeCoordinator, ops: ReturnType<typeof fakeModelOps>): void {
  expect(c.calls.every((x) => x === 'currentRound')).toBe(true);
  expect(c.updates).toHaveLength(0);
  expect(c.evaluations).toHaveLength(0);
  expect(ops.trainCalls).toBe(0);
}

describe('a site trains only on the plan the coordinator signed', () => {
  const secure = plan({ minSites: 2, privacy: { secureAggregation: true } });
  const dp = plan({ privacy: { dp: { clip: 1, noiseMultiplier: 1, delta: 1e-5 } } });
  test.each([
    [
      'secure aggregation turned off',
      secure,
      (p: Plan): Plan => ({ ...p, privacy: { ...p.privacy, secureAggregation: false } }),
    ],
    [
      'population k lowered to 2',
      dp,
      (p: Plan): Plan => ({ ...p, data: { ...p.data, population: { ...p.data.population!, k: 2 } } }),
    ],
    ['DP dropped', dp, (p: Plan): Plan => ({ ...p, privacy: { secureAggregation: false } })],
  ])(
    'a response with the plan tampered (%s) is refused with PLAN_SIGNATURE_INVALID before anything is sent',
    async (_name, signed, tamper) => {
      const c = new FakeCoordinator(signed);
      c.tamper.plan = tamper(signed);
      const { promise, ops, dir } = run(c);
      await expect(promise).rejects.toMatchObject({
        code: 'PLAN_SIGNATURE_INVALID',
        message: expect.stringContaining('not the plan the coordinator signed'),
      });
      nothingSent(c, ops);
      expect(fs.readFileSync(path.join(dir, 'audit.jsonl'), 'utf8')).toContain('"plan.refused"');
    },
  );

  test('a plan served without its signed statement is refused', async () => {
    const c = new FakeCoordinator(plan());
    c.tamper.unsignedPlan = true;
    const { promise, ops } = run(c);
    await expect(promise).rejects.toMatchObject({ code: 'PLAN_SIGNATURE_INVALID' });
    nothingSent(c, ops);
  });

  test('a plan statement signed by another key (the pinned key is not the signer) is refused', async () => {
    const c = new FakeCoordinator(plan());
    const enrollment = testEnrollment(new FakeCoordinator().identity);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-plan-'));
    const runner = new SiteRunner({
      federationId: c.federationId,
      enrollment,
      api: c,
      dataset: syntheticDataset(),
      modelOps: fakeModelOps(),
      pollIntervalMs: 10,
      journal: Journal.open(dir),
      audit: new SiteAuditLog(dir),
      policy: APPROVE_EVERY_PLAN,
    });
    await expect(runner.run()).rejects.toMatchObject({ code: 'PLAN_SIGNATURE_INVALID' });
    expect(c.updates).toHaveLength(0);
  });

  test('a plan that changed (validly signed) for a federation the site already took part in is refused: after a restart and mid-run', async () => {
    const c = new FakeCoordinator(plan({ rounds: 3 }));
    const first = run(c);
    // Round 1 trained and uploaded, then the coordinator swaps the plan (a lying coordinator holds the key).
    await new Promise<void>((resolve) => first.runner.onProgress((e) => e.type === 'uploaded' && resolve()));
    c.plan = plan({ rounds: 3, data: { features: TEST_FEATURES, normalization: 'per-site', population: { k: 2 } } });
    await expect(first.promise).rejects.toMatchObject({ code: 'PLAN_CHANGED' });
    const uploaded = c.updates.length;
    expect(uploaded).toBeGreaterThanOrEqual(1);

    const again = run(c, { dir: first.dir });
    await expect(again.promise).rejects.toMatchObject({
      code: 'PLAN_CHANGED',
      message: expect.stringContaining(planDigest(plan({ rounds: 3 })).slice(0, 12)),
    });
    expect(c.updates).toHaveLength(uploaded);
    expect(again.ops.trainCalls).toBe(0);
  });

  test('a version signed for another plan is refused (never trained on, never evaluated)', async () => {
    const c = new FakeCoordinator(plan());
    c.publish({
      versionId: 'v0',
      round: 0,
      weights: initialWeights(c.plan.model, 1),
      parent: null,
      planSha256: planDigest(plan({ rounds: 7 })),
    });
    const { runner, events, ops } = run(c);
    await new Promise<void>((resolve) => runner.onProgress((e) => e.type === 'model-rejected' && resolve()));
    runner.stop();
    expect(events.find((e) => e.type === 'model-rejected')).toMatchObject({
      versionId: 'v0',
      code: 'MODEL_SIGNATURE_INVALID',
      message: expect.stringContaining('plan'),
    });
    expect(c.updates).toHaveLength(0);
    expect(c.evaluations).toHaveLength(0);
    expect(ops.trainCalls).toBe(0);
  });
});
