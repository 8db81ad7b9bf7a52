/**
 * `twinfed-site plans` and `policy` (in this process, through `runCli`) against a real coordinator (in-process harness,
 * 127.0.0.1:0): the site lists and reads the plans offered to it, decides, and the coordinator records only the
 * decision and the hash; the operator's amendment makes the plan pending again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PlanSchema, planDigest, routes, type SiteDecisionView } from '@twinfed/shared';
import { runCli, SiteAuditLog } from '@twinfed/site-client';
import { json, operator, startTestCoordinator, testPlan } from '@twinfed/coordinator/__tests__/harness';
import { writeSitePolicy } from '../support/site-policy';
import { cliIo } from '../support/cli-io';

/** Round 1 waits for two approvals, so the plan can still be amended after the sites decided. */
const governance = { requireApprovals: true };

describe('twinfed-site plans against a real coordinator', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let work: string;
  beforeAll(async () => {
    c = await startTestCoordinator();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-plans-e2e-'));
  });
  afterAll(async () => {
    await c?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const site = async (args: string[], dir: string) => {
    const r = cliIo();
    const code = await runCli(['node', 'twinfed-site', ...args, '--data-dir', dir], r.deps);
    return { code, out: r.out(), err: r.err() };
  };
  const decisions = async (fid: string) =>
    (await json<{ decisions: SiteDecisionView[] }>(operator(c, 'GET', routes.federationDecisions(fid)))).decisions;

  test('list, show, approve, reject, revoke; policy check; an amended plan is pending again', async () => {
    const dirs: string[] = [];
    for (const name of ['North', 'South']) {
      const inv = await json<{ token: string }>(operator(c, 'POST', routes.invitations, { siteName: name }));
      const dir = path.join(work, name);
      expect((await site(['enroll', '--coordinator', c.url, '--token', inv.token], dir)).code).toBe(0);
      dirs.push(dir);
    }
    const [north, south] = dirs as [string, string];
    writeSitePolicy(south, { maxRounds: 1 });
    const created = await operator(c, 'POST', routes.federations, { plan: testPlan({ rounds: 2, governance }) });
    const fid = (await json<{ id: string }>(created)).id;
    const hash = planDigest(PlanSchema.parse(testPlan({ rounds: 2, governance })));

    const list = await site(['plans', 'list'], north);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(new RegExp(`^${fid} +test federation +pending +${hash.slice(0, 12)}…$`, 'm'));
    const show = await site(['plans', 'show', fid], north);
    expect(show.out).toContain(`Plan ${hash} (signed by the coordinator; signature verified with the pinned key)`);
    expect(show.out).toContain('features:             3: a, b, c');

    // South's policy allows one round: it cannot approve by hand, and `policy check` says why.
    const refused = await site(['plans', 'approve', fid], south);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(
      /rounds: the plan has 2; this site takes part in at most 1 \(maxRounds\).*\[PLAN_REJECTED\]/s,
    );
    const planFile = path.join(work, 'plan.json');
    fs.writeFileSync(planFile, JSON.stringify(testPlan({ rounds: 2, governance })));
    const check = await site(['policy', 'check', planFile], south);
    expect(check.code).toBe(1);
    expect(check.out).toContain('FAIL  rounds: the plan has 2; this site takes part in at most 1');

    expect((await site(['plans', 'approve', fid, '--by', 'Dr. North', '--note', 'ok'], north)).code).toBe(0);
    expect((await site(['plans', 'reject', fid, '--by', 'Dr. South'], south)).code).toBe(0);
    const byName = (ds: SiteDecisionView[]) =>
      Object.fromEntries(ds.map((d) => [d.siteName, [d.decision, d.planSha256]]));
    expect(byName(await decisions(fid))).toEqual({ North: ['approved', hash], South: ['rejected', hash] });
    expect(JSON.stringify(await decisions(fid))).not.toMatch(/Dr\. |"ok"/);

    expect((await site(['plans', 'revoke', fid], north)).code).toBe(0);
    expect(byName(await decisions(fid)).North).toEqual(['revoked', hash]);
    expect((await site(['plans', 'approve', fid, '--by', 'Dr. North'], north)).code).toBe(0);

    // The operator amends the plan before round 1: pending again at the coordinator and at the site.
    expect(
      (await operator(c, 'PUT', routes.federationPlan(fid), { plan: testPlan({ rounds: 3, governance }) })).status,
    ).toBe(200);
    expect(byName(await decisions(fid)).North![0]).toBe('pending');
    const after = await site(['plans', 'list'], north);
    expect(after.out).toMatch(new RegExp(`^${fid} +test federation +pending +[0-9a-f]{12}…$`, 'm'));
    expect(after.out).not.toContain(hash.slice(0, 12));

    // North's trail: approved, revoked, approved — each by hand, each about the first hash.
    const trail = new SiteAuditLog(north)
      .list()
      .filter((e) => e.subject === fid)
      .map((e) => [e.action, e.actor, (e.detail as { planSha256: string }).planSha256]);
    expect(trail).toEqual([
      ['plan.approved', 'Dr. North', hash],
      ['plan.revoked', expect.any(String), hash],
      ['plan.approved', 'Dr. North', hash],
    ]);
  });

  test('a site enrolled after the federation was created reads its plan, approves it, and the coordinator records it', async () => {
    const plan = testPlan({ name: 'late federation', rounds: 2, minSites: 3, governance });
    const fid = (await json<{ id: string }>(operator(c, 'POST', routes.federations, { plan }))).id;
    const inv = await json<{ token: string }>(operator(c, 'POST', routes.invitations, { siteName: 'Latecomer' }));
    const dir = path.join(work, 'Latecomer');
    expect((await site(['enroll', '--coordinator', c.url, '--token', inv.token], dir)).code).toBe(0);
    const shown = await site(['plans', 'show', fid], dir);
    expect(shown.err).toBe('');
    expect(shown.out).toContain('late federation');
    expect((await site(['plans', 'approve', fid, '--by', 'Dr. Late'], dir)).code).toBe(0);
    const mine = (await decisions(fid)).find((d) => d.siteName === 'Latecomer')!;
    expect([mine.decision, mine.planSha256]).toEqual(['approved', planDigest(PlanSchema.parse(plan))]);
  });
});
