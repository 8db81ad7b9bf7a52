/** `twinfed-site plans show|approve|reject|revoke` against an in-process coordinator (the site API with real signatures). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TwinfedError, planDigest, planEpsilon, type Plan } from '@twinfed/shared';
import { coordinatorFetch } from '../__tests__/coordinator-fetch';
import { FakeCoordinator, testPlan } from '../__tests__/fake-coordinator';
import { cli, enrollArgs, io, writeSitePolicy } from '../__tests__/cli';
import { SiteAuditLog } from '../audit/site-audit';
import { osUser } from '../governance/decisions';
import { loadEnrollment } from '../identity/load';

const FEATURES = ['age', 'chol', 'thalach'];

async function site(plan: Plan = testPlan({ data: { features: FEATURES, population: { k: 10 } } })) {
  const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-plans-cli-')), 'site');
  const c = new FakeCoordinator(plan);
  const coord = coordinatorFetch(c);
  expect(await cli(enrollArgs(dataDir), io({ fetch: coord.fetch }).deps)).toBe(0);
  c.trust(loadEnrollment(dataDir));
  const plans = async (args: string[], env: Record<string, string> = {}) => {
    const r = io({ fetch: coord.fetch, env });
    const code = await cli([...args, '--data-dir', dataDir], r.deps);
    return { code, out: r.out(), err: r.err(), lines: code === 0 && args[0] === '--json' ? r.lines() : [] };
  };
  const audit = () => new SiteAuditLog(dataDir).list();
  return { c, coord, dataDir, plans, audit, hash: planDigest(plan) };
}

describe('twinfed-site plans list', () => {
  test('the federations offered to this site with its decision and the verified plan hash; the coordinator learns the decision', async () => {
    const s = await site();
    const before = await s.plans(['plans', 'list']);
    expect(before.code).toBe(0);
    expect(before.out).toBe(
      `fed-1  fed  pending   ${s.hash.slice(0, 12)}…\ntwinfed-site plans show <federation> prints a plan in words with this site’s policy verdict.\n`,
    );
    expect((await s.plans(['plans', 'approve', 'fed-1', '--by', 'Dr. Jones'])).code).toBe(0);
    expect(s.c.decisions).toEqual([{ federationId: 'fed-1', decision: 'approved', planSha256: s.hash }]);
    const after = await s.plans(['--json', 'plans', 'list']);
    expect(after.lines[0]).toEqual({
      federations: [
        {
          federationId: 'fed-1',
          name: 'fed',
          state: 'approved',
          planSha256: s.hash,
          problem: null,
          coordinator: 'approved',
        },
      ],
    });
    // Who approved, and why, never left the site.
    expect(s.coord.requests.some((q) => q.body.includes('Dr. Jones'))).toBe(false);
  });

  test('a plan whose signature does not verify is listed as refused, never with a hash; an ended federation is not offered', async () => {
    const s = await site();
    s.c.tamper.plan = testPlan({ rounds: 50, data: { features: FEATURES } });
    const r = await s.plans(['plans', 'list']);
    expect(r.out).toMatch(
      /^fed-1 {2}fed {2}REFUSED {3}plan not signed by the pinned coordinator key \[PLAN_SIGNATURE_INVALID\]/,
    );
    s.c.state = 'completed';
    expect((await s.plans(['plans', 'list'])).out).toBe('(no running federation is offered to this site)\n');
  });

  test('when a report could not reach the coordinator, the decision stands here and the list shows the difference', async () => {
    const s = await site();
    const report = s.c.report.bind(s.c);
    s.c.report = () => Promise.reject(new TwinfedError('SITE_REVOKED'));
    const approve = await s.plans(['plans', 'approve', 'fed-1', '--by', 'a']);
    expect(approve.code).toBe(0);
    expect(approve.err).toMatch(
      /^warning: the decision is recorded here, but the coordinator could not be told now: .*\[SITE_REVOKED\]/,
    );
    s.c.report = report;
    expect((await s.plans(['plans', 'list'])).out).toMatch(
      /^fed-1 {2}fed {2}approved {2}[0-9a-f]{12}… {2}\(the coordinator has: pending\)$/m,
    );
  });
});

describe('twinfed-site plans show', () => {
  test('the plan in words, what leaves the site, the policy verdict line by line and the decision', async () => {
    const dp = { clip: 1, noiseMultiplier: 1.1, delta: 1e-5 };
    const plan = testPlan({
      rounds: 4,
      data: { features: FEATURES, population: { k: 10, epsilon: 1 } },
      privacy: { dp },
    });
    const s = await site(plan);
    writeSitePolicy(s.dataDir, { maxRounds: 3, dp: { required: true }, populationReports: { allowed: true, k: 20 } });
    const r = await s.plans(['plans', 'show', 'fed-1']);
    expect(r.code).toBe(0);
    const eps = planEpsilon(plan)!.toFixed(2);
    expect(r.out).toContain(`Federation fed-1 "fed": running, round 1\nPlan ${s.hash} (signed by the coordinator;`);
    for (const line of [
      'model:                logistic regression over 3 inputs',
      'features:             3: age, chol, thalach',
      'label:                target',
      'strategy:             fedavg',
      'rounds:               4',
      'minSites:             1 (the fewest sites whose updates a round aggregates)',
      'secure aggregation:   no: the coordinator decrypts each site’s update',
      `differential privacy: ε = ${eps} over all 4 rounds (δ = 0.00001; clip 1, noise ×1.1; central:`,
      '- an encrypted, signed weight update when selected for a round (encrypted to the coordinator)',
      '- no per-site evaluation metrics (under differential privacy they stay here)',
      "cells below k = 20 (this site's own; the plan's k is 10) suppressed, Laplace noise ε = 1",
      'the plan VIOLATES it',
      'ok    differential privacy: required by this site, used by the plan',
      'FAIL  rounds: the plan has 4; this site takes part in at most 3',
      "ok    population reports: the plan's k = 10; this site suppresses cells below its own k = 20",
      'Decision: pending: nobody decided about this plan yet; to approve it: twinfed-site plans approve fed-1',
    ])
      expect(r.out).toContain(line);
    // Reading the policy recorded it in the audit chain.
    expect(s.audit().map((e) => e.action)).toEqual(['site.enrolled', 'policy.changed']);
  });

  test('--json: the same facts, the verdict and the decision', async () => {
    const s = await site();
    const r = await s.plans(['--json', 'plans', 'show', 'fed-1']);
    expect(r.code).toBe(0);
    expect(r.lines[0]).toMatchObject({
      federation: { id: 'fed-1', state: 'running' },
      planSha256: s.hash,
      plan: { model: 'logistic regression over 3 inputs', rounds: '2' },
      policy: { verdict: 'conforms', lines: [] },
      decision: { state: 'pending', last: null },
    });
  });

  test('a tampered plan is never shown nor approved: PLAN_SIGNATURE_INVALID, nothing recorded', async () => {
    const s = await site();
    s.c.tamper.plan = testPlan({ rounds: 50, data: { features: FEATURES } });
    for (const cmd of ['show', 'approve']) {
      const r = await s.plans(['plans', cmd, 'fed-1']);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/not the plan the coordinator signed.*\[PLAN_SIGNATURE_INVALID\]/s);
      expect(r.out).toBe('');
    }
    expect(s.audit().map((e) => e.action)).toEqual(['site.enrolled']);
  });

  test('an unknown federation is a clear error', async () => {
    const s = await site();
    const r = await s.plans(['plans', 'show', 'fed-9']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\[NOT_FOUND\]|\[UNKNOWN_FEDERATION\]/);
  });
});

describe('twinfed-site plans approve | reject | revoke', () => {
  test('approve records who, when, the hash and the note; again is idempotent; the OS user is the default', async () => {
    const s = await site();
    const r = await s.plans(['plans', 'approve', 'fed-1', '--by', 'Dr. Jones', '--note', 'IRB 2024-17']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      new RegExp(
        `^Approved: the plan ${s.hash.slice(0, 12)}… of fed-1, by Dr\\. Jones on \\S+ \\("IRB 2024-17"\\) \\(site audit chain, entry 2\\)\\.`,
      ),
    );
    const again = await s.plans(['plans', 'approve', 'fed-1']);
    expect(again.out).toMatch(/^Already approved: .* by Dr\. Jones/);
    expect(s.audit().filter((e) => e.action === 'plan.approved')).toEqual([
      expect.objectContaining({
        actor: 'Dr. Jones',
        subject: 'fed-1',
        detail: { federationId: 'fed-1', planSha256: s.hash, decidedBy: 'hand', note: 'IRB 2024-17' },
      }),
    ]);
    await s.plans(['plans', 'revoke', 'fed-1']);
    expect(s.audit().at(-1)).toMatchObject({ action: 'plan.revoked', actor: osUser() });
  });

  test('approve is refused, listing the failed rules, when the plan breaks the policy; reject is not', async () => {
    const s = await site();
    writeSitePolicy(s.dataDir, { requireSecureAggregation: true, allowedFeatures: ['age'] });
    const r = await s.plans(['plans', 'approve', 'fed-1', '--by', 'Dr. Jones']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /breaks this site's policy: features: the plan uses chol, thalach, which this site does not allow \(allowed: age\) \(allowedFeatures\); secure aggregation: required by this site; .*\(requireSecureAggregation\)\. It cannot be approved past the policy.*\[PLAN_REJECTED\]/s,
    );
    expect(s.audit().some((e) => e.action === 'plan.approved')).toBe(false);
    const rejected = await s.plans(['plans', 'reject', 'fed-1', '--note', 'not our data']);
    expect(rejected.code).toBe(0);
    expect(rejected.out).toMatch(/^Rejected: the plan/);
    const show = await s.plans(['plans', 'show', 'fed-1']);
    expect(show.out).toMatch(/Decision: rejected by \S+ on \S+ \("not our data"\)/);
  });

  test('revoke needs an approval of the current plan; a revoked approval shows as revoked', async () => {
    const s = await site();
    const none = await s.plans(['plans', 'revoke', 'fed-1']);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/there is no approval to revoke.*\[PLAN_NOT_APPROVED\]/s);
    expect((await s.plans(['plans', 'approve', 'fed-1', '--by', 'a'])).code).toBe(0);
    expect((await s.plans(['plans', 'revoke', 'fed-1', '--by', 'b', '--note', 'consent withdrawn'])).code).toBe(0);
    expect((await s.plans(['plans', 'show', 'fed-1'])).out).toMatch(
      /Decision: revoked by b on \S+ \("consent withdrawn"\)/,
    );
  });

  test('after the plan changes, the earlier approval no longer applies: pending again, and shown as such', async () => {
    const s = await site();
    expect((await s.plans(['plans', 'approve', 'fed-1', '--by', 'a'])).code).toBe(0);
    s.c.plan = testPlan({ rounds: 3, data: { features: FEATURES } });
    const show = await s.plans(['plans', 'show', 'fed-1']);
    expect(show.out).toMatch(
      new RegExp(
        `Decision: pending: nobody decided about this plan yet \\(this site approved another version of the plan, ${s.hash.slice(0, 12)}…`,
      ),
    );
  });

  test('a federation that ended has nothing to decide on; bad --by is a usage error', async () => {
    const s = await site();
    s.c.state = 'completed';
    const r = await s.plans(['plans', 'approve', 'fed-1']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/has completed: there is no plan left to decide on.*\[FEDERATION_NOT_RUNNING\]/s);
    s.c.state = 'running';
    const bad = await s.plans(['plans', 'approve', 'fed-1', '--by', '']);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('the name must be 1 to 200 characters on one line');
  });

  test('a policy file that changed is recorded once (policy.changed) when a plans command notices it', async () => {
    const s = await site();
    writeSitePolicy(s.dataDir, { autoApprove: true });
    await s.plans(['plans', 'show', 'fed-1']);
    await s.plans(['plans', 'show', 'fed-1']);
    writeSitePolicy(s.dataDir, { autoApprove: false });
    await s.plans(['plans', 'show', 'fed-1']);
    fs.rmSync(path.join(s.dataDir, 'policy.json'));
    await s.plans(['plans', 'show', 'fed-1']);
    const changes = s.audit().filter((e) => e.action === 'policy.changed');
    expect(changes.map((e) => e.detail.policySha256 === null)).toEqual([false, false, true]);
  });
});
