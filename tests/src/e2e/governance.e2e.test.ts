/**
 * Issue 13 across processes: hospitals decide what runs on their data. A coordinator process and three
 * `twinfed-site` processes: a site without a policy refuses to train until a person runs `plans approve`; a site whose
 * policy requires secure aggregation rejects a plan without it and approves one with it, by itself; a plan the operator
 * amends is pending again; the operator sees each site's decision (never who decided). Every decision is in the
 * deciding site's own audit chain.
 */
import { PlanSchema, planDigest, type PlanInput } from '@twinfed/shared';
import { SiteAuditLog } from '@twinfed/site-client';
import { heartPlan } from '../demo/heart-plan';
import { siteDir, siteRunArgs, watchFederation, type RunSite } from '../demo/federation-run';
import { siteCli } from '../support/paths';
import { runNode, startNode, stop, type Child } from '../support/processes';
import { writeSitePolicy } from '../support/site-policy';
import { suiteConsortium } from './__tests__/consortium';

const CLEVELAND: RunSite = { name: 'Cleveland', center: 0 }; // no policy: a person decides
const HUNGARIAN: RunSite = { name: 'Hungarian', center: 1 }; // policy: secure aggregation required, automatic
const VA: RunSite = { name: 'VA', center: 3 }; // policy: approve every plan
const SITES = [CLEVELAND, HUNGARIAN, VA];

function plan(over: Partial<PlanInput> = {}): PlanInput {
  return PlanSchema.parse({
    ...heartPlan({ rounds: 1, minSites: 2 }),
    strategy: { name: 'fedavg' },
    training: { steps: 20, batchSize: 4, optimizer: 'sgd', lr: 0.01 },
    roundDeadlineSeconds: 60,
    governance: { requireApprovals: true },
    ...over,
  });
}

describe('plan approval and site policy, across processes', () => {
  const suite = suiteConsortium('e2e-governance', SITES, null);
  const children: Child[] = [];
  const dir = (s: RunSite) => siteDir(suite.workDir, s);
  const run = (s: RunSite, federationId: string) => {
    const child = startNode({
      name: s.name,
      script: siteCli(),
      args: [...siteRunArgs({ workDir: suite.workDir, site: s, federationId }), '--poll-interval', '200'],
    });
    children.push(child);
    return child;
  };
  const plans = (s: RunSite, args: string[]) =>
    runNode({ name: `plans ${args[0]} ${s.name}`, script: siteCli(), args: ['plans', ...args, '--data-dir', dir(s)] });
  const decisionsAt = (s: RunSite, federationId: string) =>
    new SiteAuditLog(dir(s))
      .list()
      .filter((e) => e.subject === federationId && e.action.startsWith('plan.') && e.action !== 'plan.refused')
      .map((e) => {
        const d = e.detail as { decidedBy: string; planSha256: string };
        return `${e.action} ${d.decidedBy} ${e.actor} ${d.planSha256.slice(0, 12)}`;
      });
  const byName = async (federationId: string) =>
    Object.fromEntries(
      (await suite.c.admin.federationDecisions(federationId)).map((d) => [d.siteName, d.decision] as const),
    );

  beforeAll(() => {
    writeSitePolicy(dir(HUNGARIAN), { requireSecureAggregation: true, autoApprove: true });
    writeSitePolicy(dir(VA), { autoApprove: true });
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => stop(c)));
  });

  test('no policy: refused until `plans approve`, then trains; a policy requiring secure aggregation rejects the plan by itself', async () => {
    const fed = await suite.c.admin.createFederation(plan());
    const hash = planDigest(PlanSchema.parse(fed.plan));
    const cleveland = run(CLEVELAND, fed.id);
    const hungarian = run(HUNGARIAN, fed.id);
    expect(await cleveland.exited).toBe(1);
    expect(cleveland.lines.join('\n')).toContain(
      `run \`twinfed-site plans show ${fed.id}\` then \`twinfed-site plans approve ${fed.id}\`. [PLAN_NOT_APPROVED]`,
    );
    expect(await hungarian.exited).toBe(1);
    expect(hungarian.lines.join('\n')).toMatch(
      /policy rejects the plan .*\(requireSecureAggregation\).*\[PLAN_REJECTED\]/s,
    );
    expect(await byName(fed.id)).toEqual({ Cleveland: 'pending', Hungarian: 'rejected', VA: 'pending' });
    expect((await suite.c.admin.listRounds(fed.id)).length).toBe(0); // requireApprovals: nothing opened yet

    const show = await plans(CLEVELAND, ['show', fed.id]);
    expect(show.join('\n')).toContain(
      `Plan ${hash} (signed by the coordinator; signature verified with the pinned key)`,
    );
    expect(show.join('\n')).toContain('Decision: pending');
    await plans(CLEVELAND, ['approve', fed.id, '--by', 'Dr. Chen', '--note', 'IRB 2024-113']);
    expect(await byName(fed.id)).toEqual({ Cleveland: 'approved', Hungarian: 'rejected', VA: 'pending' });

    const training = [run(CLEVELAND, fed.id), run(VA, fed.id)];
    const done = await watchFederation({ ...suite.c, sites: training }, { federationId: fed.id, timeoutMs: 120_000 });
    expect(done.federation.state).toBe('completed');
    const rounds = await suite.c.admin.listRounds(fed.id);
    const ids = suite.c.siteIds;
    expect(rounds[0]!.selectedSiteIds.sort()).toEqual([ids.get('Cleveland')!, ids.get('VA')!].sort());
    expect(await byName(fed.id)).toEqual({ Cleveland: 'approved', Hungarian: 'rejected', VA: 'approved' });
    // The operator never learns who approved, or why.
    expect(JSON.stringify(await suite.c.admin.federationDecisions(fed.id))).not.toMatch(/Dr\. Chen|IRB/);
    // Each site's own trail.
    const h = hash.slice(0, 12);
    expect(decisionsAt(CLEVELAND, fed.id)).toEqual([`plan.approved hand Dr. Chen ${h}`]);
    expect(decisionsAt(HUNGARIAN, fed.id)).toEqual([`plan.rejected policy site:${ids.get('Hungarian')} ${h}`]);
    expect(decisionsAt(VA, fed.id)).toEqual([`plan.approved policy site:${ids.get('VA')} ${h}`]);
  }, 180_000);

  test('the same policy approves, by itself, a plan with secure aggregation', async () => {
    const fed = await suite.c.admin.createFederation(plan({ minSites: 3, privacy: { secureAggregation: true } }));
    await plans(CLEVELAND, ['approve', fed.id, '--by', 'Dr. Chen']);
    for (const s of SITES) run(s, fed.id);
    const done = await watchFederation({ ...suite.c, sites: children }, { federationId: fed.id, timeoutMs: 150_000 });
    expect(done.federation.state).toBe('completed');
    expect(await byName(fed.id)).toEqual({ Cleveland: 'approved', Hungarian: 'approved', VA: 'approved' });
    expect(decisionsAt(HUNGARIAN, fed.id)).toEqual([
      `plan.approved policy site:${suite.c.siteIds.get('Hungarian')} ${planDigest(PlanSchema.parse(fed.plan)).slice(0, 12)}`,
    ]);
  }, 200_000);

  test('a plan the operator amends before round 1 is pending again, at the site and at the coordinator', async () => {
    const fed = await suite.c.admin.createFederation(plan({ minSites: 3 }));
    await plans(CLEVELAND, ['approve', fed.id, '--by', 'Dr. Chen']);
    expect((await byName(fed.id)).Cleveland).toBe('approved');
    const amended = await suite.c.admin.amendPlan(fed.id, plan({ minSites: 3, rounds: 2 }));
    const before = planDigest(PlanSchema.parse(fed.plan)).slice(0, 12);
    expect(planDigest(PlanSchema.parse(amended.plan)).slice(0, 12)).not.toBe(before);
    expect((await byName(fed.id)).Cleveland).toBe('pending');
    const list = (await plans(CLEVELAND, ['list'])).join('\n');
    expect(list).toMatch(new RegExp(`^${fed.id} +\\S+ +pending +[0-9a-f]{12}…`, 'm'));
    const cleveland = run(CLEVELAND, fed.id);
    expect(await cleveland.exited).toBe(1);
    expect(cleveland.lines.join('\n')).toContain(
      `was about another version of the plan (${before}…): the plan changed since`,
    );
  }, 120_000);
});
