/**
 * Issue 13: a hospital decides what runs on its data. The runner trains only on a plan hash this site approved (by a
 * person, or by its policy's `autoApprove`), checks its policy again at every round, and reports each decision (only
 * the decision and the hash) to the coordinator.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initialWeights, planDigest, type Plan, type PlanInput } from '@twinfed/shared';
import { FakeCoordinator, TEST_FEATURES, testEnrollment, testPlan } from '../__tests__/fake-coordinator';
import { fakeModelOps, siteRecords, syntheticDataset } from '../__tests__/fixtures';
import { PlanDecisions } from '../governance/decisions';
import type { SitePolicy } from '../governance/policy';
import type { RunnerProgress } from './progress';
import { SiteRunner } from './runner';

const plan = (over: Partial<PlanInput> = {}): Plan =>
  testPlan({ data: { features: TEST_FEATURES, normalization: 'per-site' }, ...over });

function site(c: FakeCoordinator, policy: SitePolicy | (() => SitePolicy), dir = tmp()) {
  const enrollment = testEnrollment(c.identity);
  c.trust(enrollment);
  const events: RunnerProgress[] = [];
  const ops = fakeModelOps();
  const records = siteRecords(dir);
  const runner = new SiteRunner({
    federationId: c.federationId,
    enrollment,
    api: c,
    decisionChannel: c,
    dataset: syntheticDataset(),
    modelOps: ops,
    pollIntervalMs: 10,
    ...records,
    policy,
    onProgress: (e) => events.push(e),
  });
  return { runner, events, ops, dir, ...records, decisions: new PlanDecisions(records.audit) };
}
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-governance-'));
const until = (runner: SiteRunner, type: RunnerProgress['type']) =>
  new Promise<void>((resolve) => runner.onProgress((e) => e.type === type && resolve()));
const actions = (s: ReturnType<typeof site>) => s.audit.list().map((e) => e.action);

describe('the runner trains only on a plan this site approved', () => {
  test('no policy, no decision: PLAN_NOT_APPROVED saying how to approve; nothing is trained or sent', async () => {
    const c = new FakeCoordinator(plan());
    const s = site(c, {});
    await expect(s.runner.run()).rejects.toMatchObject({
      code: 'PLAN_NOT_APPROVED',
      message: expect.stringContaining('run `twinfed-site plans show fed-1` then `twinfed-site plans approve fed-1`'),
    });
    expect(c.calls).toEqual(['currentRound']);
    expect(s.ops.trainCalls).toBe(0);
    expect(c.decisions).toEqual([]); // nothing decided, nothing reported
    expect(s.journal.pinnedPlan('fed-1')).toBeUndefined();
  });

  test('approved by a person for this hash: trains to the end, and the approval is reported once (no name)', async () => {
    const c = new FakeCoordinator(plan());
    const s = site(c, {});
    s.decisions.record({
      federationId: 'fed-1',
      decision: 'approved',
      planSha256: planDigest(c.plan),
      decidedBy: 'hand',
      actor: 'dr.jones',
    });
    await expect(s.runner.run()).resolves.toMatchObject({ state: 'completed', roundsUploaded: [1, 2] });
    expect(c.decisions).toEqual([{ federationId: 'fed-1', decision: 'approved', planSha256: planDigest(c.plan) }]);
    expect(s.events.find((e) => e.type === 'plan')).toMatchObject({ decidedBy: 'hand', by: 'dr.jones' });
    expect(actions(s)).toEqual([
      'plan.approved',
      'round.trained',
      'update.uploaded',
      'round.trained',
      'update.uploaded',
    ]);
  });

  test('a policy requiring secure aggregation auto-rejects a plan without it: recorded once, reported, PLAN_REJECTED naming the rule', async () => {
    const policy: SitePolicy = { requireSecureAggregation: true, autoApprove: true };
    const c = new FakeCoordinator(plan());
    const s = site(c, policy);
    await expect(s.runner.run()).rejects.toMatchObject({
      code: 'PLAN_REJECTED',
      message: expect.stringMatching(
        /policy rejects the plan of fed-1.*secure aggregation.*\(requireSecureAggregation\)/,
      ),
      details: { rules: ['requireSecureAggregation'] },
    });
    expect(s.ops.trainCalls).toBe(0);
    expect(c.updates).toHaveLength(0);
    expect(c.decisions).toEqual([{ federationId: 'fed-1', decision: 'rejected', planSha256: planDigest(c.plan) }]);
    const again = site(c, policy, s.dir);
    await expect(again.runner.run()).rejects.toMatchObject({ code: 'PLAN_REJECTED' });
    const rejections = s.decisions.all();
    expect(rejections).toHaveLength(1); // once per hash
    expect(rejections[0]).toMatchObject({
      decision: 'rejected',
      decidedBy: 'policy',
      actor: 'site:site-a',
      rules: ['requireSecureAggregation'],
    });
  });

  test('the same policy auto-approves a plan with secure aggregation: recorded as approved by policy and reported', async () => {
    const c = new FakeCoordinator(plan({ minSites: 2, privacy: { secureAggregation: true } }));
    const s = site(c, { requireSecureAggregation: true, autoApprove: true });
    const done = s.runner.run();
    await until(s.runner, 'plan');
    s.runner.stop();
    await done;
    expect(s.events.find((e) => e.type === 'plan')).toMatchObject({
      federationId: 'fed-1',
      planSha256: planDigest(c.plan),
      decidedBy: 'policy',
      by: 'site:site-a',
    });
    expect(s.decisions.current('fed-1', planDigest(c.plan))).toMatchObject({
      state: 'approved',
      last: { decidedBy: 'policy' },
    });
    expect(c.decisions).toEqual([{ federationId: 'fed-1', decision: 'approved', planSha256: planDigest(c.plan) }]);
  });

  test('autoReject false: a plan that breaks a rule is still refused, but no rejection is recorded or reported', async () => {
    const c = new FakeCoordinator(plan({ rounds: 9 }));
    const s = site(c, { maxRounds: 5, autoReject: false });
    await expect(s.runner.run()).rejects.toMatchObject({ code: 'PLAN_REJECTED', details: { rules: ['maxRounds'] } });
    expect(s.decisions.all()).toEqual([]);
    expect(c.decisions).toEqual([]);
  });

  test('a person’s rejection stands, even under autoApprove; their approval afterwards lets the site train', async () => {
    const c = new FakeCoordinator(plan());
    const s = site(c, { autoApprove: true });
    const hash = planDigest(c.plan);
    s.decisions.record({
      federationId: 'fed-1',
      decision: 'rejected',
      planSha256: hash,
      decidedBy: 'hand',
      actor: 'dpo',
      note: 'label not covered by our consent',
    });
    await expect(s.runner.run()).rejects.toMatchObject({
      code: 'PLAN_REJECTED',
      message: expect.stringMatching(/This site rejected the plan of fed-1.*dpo.*label not covered by our consent/),
    });
    expect(c.decisions).toEqual([{ federationId: 'fed-1', decision: 'rejected', planSha256: hash }]);
    s.decisions.record({
      federationId: 'fed-1',
      decision: 'approved',
      planSha256: hash,
      decidedBy: 'hand',
      actor: 'dpo',
    });
    await expect(site(c, { autoApprove: true }, s.dir).runner.run()).resolves.toMatchObject({ state: 'completed' });
  });

  test('a plan whose hash changed since its approval is pending again (approved plan A, served plan B)', async () => {
    const a = new FakeCoordinator(plan({ rounds: 2 }));
    const s = site(a, {});
    s.decisions.record({
      federationId: 'fed-1',
      decision: 'approved',
      planSha256: planDigest(a.plan),
      decidedBy: 'hand',
      actor: 'dr.jones',
    });
    const b = new FakeCoordinator(plan({ rounds: 3 }));
    await expect(site(b, {}, s.dir).runner.run()).rejects.toMatchObject({
      code: 'PLAN_NOT_APPROVED',
      message: expect.stringContaining(
        `was about another version of the plan (${planDigest(a.plan).slice(0, 12)}…): the plan changed since`,
      ),
    });
    expect(s.decisions.current('fed-1', planDigest(b.plan)).state).toBe('pending');
  });

  test('the policy is enforced again at every round: tightened after round 1, the site stops before round 2', async () => {
    const c = new FakeCoordinator(plan({ rounds: 3 }));
    let policy: SitePolicy = { autoApprove: true };
    const s = site(c, () => policy);
    const done = s.runner.run();
    await until(s.runner, 'uploaded');
    policy = { autoApprove: true, requireSecureAggregation: true };
    await expect(done).rejects.toMatchObject({ code: 'PLAN_REJECTED' });
    expect(c.updates.map((u) => u.round)).toEqual([1]);
    expect(c.decisions.map((d) => d.decision)).toEqual(['approved', 'rejected']);
  });

  test('an approval revoked while the site runs stops it at the next round (PLAN_NOT_APPROVED), reported as revoked', async () => {
    const c = new FakeCoordinator(plan({ rounds: 3 }));
    const s = site(c, {});
    const hash = planDigest(c.plan);
    s.decisions.record({
      federationId: 'fed-1',
      decision: 'approved',
      planSha256: hash,
      decidedBy: 'hand',
      actor: 'a',
    });
    const done = s.runner.run();
    await until(s.runner, 'uploaded');
    s.decisions.record({ federationId: 'fed-1', decision: 'revoked', planSha256: hash, decidedBy: 'hand', actor: 'b' });
    await expect(done).rejects.toMatchObject({
      code: 'PLAN_NOT_APPROVED',
      message: expect.stringContaining('revoked its approval'),
    });
    expect(c.updates.map((u) => u.round)).toEqual([1]);
    expect(c.decisions.map((d) => d.decision)).toEqual(['approved', 'revoked']);
  });

  test('a plan amended before this site took part is decided on again and worked on (not PLAN_CHANGED)', async () => {
    const c = new FakeCoordinator(plan({ rounds: 2 }));
    c.selected = false; // the site waits, trains nothing: it has not taken part
    const s = site(c, { autoApprove: true });
    const done = s.runner.run();
    await until(s.runner, 'started');
    const first = planDigest(c.plan);
    expect(s.journal.pinnedPlan('fed-1')?.planSha256).toBe(first);
    // The operator amends the plan before round 1 (the coordinator re-signs it and its initial version).
    c.plan = plan({ rounds: 3 });
    c.publish({ versionId: 'v0', round: 0, weights: initialWeights(c.plan.model, 1), parent: null });
    const second = planDigest(c.plan);
    await new Promise<void>((resolve) =>
      s.runner.onProgress((e) => e.type === 'plan' && e.planSha256 === second && resolve()),
    );
    c.selected = true;
    await expect(done).resolves.toMatchObject({ state: 'completed', roundsUploaded: [1, 2, 3] });
    expect(s.decisions.all().map((d) => [d.decision, d.planSha256])).toEqual([
      ['approved', first],
      ['approved', second],
    ]);
    expect(s.journal.pinnedPlan('fed-1')?.planSha256).toBe(second);
  });

  test('a site not yet in the federation decides from the offer: its policy approves (reported) while it waits to be selected', async () => {
    const c = new FakeCoordinator(plan({ governance: { requireApprovals: true } }));
    c.member = false;
    const s = site(c, { autoApprove: true });
    const done = s.runner.run();
    await until(s.runner, 'plan');
    s.runner.stop();
    await done;
    expect(c.decisions).toEqual([{ federationId: 'fed-1', decision: 'approved', planSha256: planDigest(c.plan) }]);
    expect(s.ops.trainCalls).toBe(0);
  });

  test('a site not yet in the federation, without a decision or a policy that approves: PLAN_NOT_APPROVED', async () => {
    const c = new FakeCoordinator(plan({ governance: { requireApprovals: true } }));
    c.member = false;
    await expect(site(c, {}).runner.run()).rejects.toMatchObject({ code: 'PLAN_NOT_APPROVED' });
    expect(c.calls.slice(0, 2)).toEqual(['currentRound', 'offered']);
  });
});
