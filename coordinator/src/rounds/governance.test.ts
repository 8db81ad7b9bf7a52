import { isTwinfedError, planDigest, PlanSchema, type PlanDecision } from '@twinfed/shared';
import type { RoundEngine } from './engine';
import { engineFixture, fixturePlan } from './__tests__/engine-fixture';

type Fixture = Awaited<ReturnType<typeof engineFixture>>;

/** The digest of the federation's plan as stored now (what sites decide about). */
async function digestOf(fx: Fixture, fid: string): Promise<string> {
  return planDigest(PlanSchema.parse((await fx.store.getFederation(fid))!.plan));
}

async function decide(fx: Fixture, e: RoundEngine, fid: string, siteId: string, decision: PlanDecision) {
  return e.recordDecision({ federationId: fid, siteId, decision, planSha256: await digestOf(fx, fid) });
}

const selected = async (fx: Fixture, fid: string, round: number) =>
  (await fx.store.getRound(fid, round))?.selectedSiteIds ?? null;

const requiring = (extra: Parameters<typeof fixturePlan>[0] = {}) =>
  fixturePlan({ rounds: 2, minSites: 2, governance: { requireApprovals: true }, ...extra });

describe('governance.requireApprovals', () => {
  test('no round opens with minSites - 1 approvals; the next approval opens it, selecting only the approvers', async () => {
    const fx = await engineFixture({ sites: 3 });
    const e = fx.engine();
    const fed = await e.createFederation(requiring(), 'test');
    expect(fed).toMatchObject({ currentRound: 0, latestVersionId: null });
    expect(await fx.store.listRounds(fed.id)).toEqual([]);

    await decide(fx, e, fed.id, 'site-c', 'approved');
    await decide(fx, e, fed.id, 'site-b', 'rejected');
    expect(await fx.store.listRounds(fed.id)).toEqual([]);
    expect((await fx.store.getFederation(fed.id))!.currentRound).toBe(0);

    await decide(fx, e, fed.id, 'site-a', 'approved');
    expect((await fx.store.getFederation(fed.id))!).toMatchObject({ currentRound: 1, latestVersionId: `${fed.id}.v0` });
    expect(await selected(fx, fed.id, 1)).toEqual(['site-a', 'site-c']);
    e.close();
  });

  test('a site that revoked is no longer selected; below minSites approvals the next round waits for one', async () => {
    const fx = await engineFixture({ sites: 3 });
    const e = fx.engine();
    const fed = await e.createFederation(requiring({ rounds: 3 }), 'test');
    const [a, b, c] = fx.sites as [(typeof fx.sites)[0], (typeof fx.sites)[0], (typeof fx.sites)[0]];
    await decide(fx, e, fed.id, 'site-a', 'approved');
    await decide(fx, e, fed.id, 'site-c', 'approved');
    expect(await selected(fx, fed.id, 1)).toEqual(['site-a', 'site-c']);
    await decide(fx, e, fed.id, 'site-b', 'approved');

    await decide(fx, e, fed.id, 'site-c', 'revoked');
    for (const s of [a, c]) await fx.upload(e, fed.id, s); // round 1 keeps its selection
    expect((await fx.store.getRound(fed.id, 1))!.state).toBe('published');
    expect(await selected(fx, fed.id, 2)).toEqual(['site-a', 'site-b']);

    await decide(fx, e, fed.id, 'site-b', 'revoked');
    for (const s of [a, b]) await fx.upload(e, fed.id, s);
    expect((await fx.store.getRound(fed.id, 2))!.state).toBe('published');
    expect(await fx.store.getRound(fed.id, 3)).toBeNull(); // one approval left, minSites is 2
    expect((await fx.store.getFederation(fed.id))!).toMatchObject({ state: 'running', currentRound: 2 });

    await decide(fx, e, fed.id, 'site-c', 'approved');
    expect(await selected(fx, fed.id, 3)).toEqual(['site-a', 'site-c']);
    e.close();
  });

  test('an approval of another version of the plan does not count: amending resets every site to pending', async () => {
    const fx = await engineFixture({ sites: 3 });
    const e = fx.engine();
    const fed = await e.createFederation(requiring(), 'test');
    const first = await digestOf(fx, fed.id);
    await decide(fx, e, fed.id, 'site-a', 'approved');
    const amended = await e.amendPlan(fed.id, requiring({ rounds: 5 }), 'operator:ops');
    expect(PlanSchema.parse(amended.plan).rounds).toBe(5);
    expect(await digestOf(fx, fed.id)).not.toBe(first);
    // The old hash is refused, and site-a's approval of it is not an approval of the new plan.
    const stale = await e
      .recordDecision({ federationId: fed.id, siteId: 'site-b', decision: 'approved', planSha256: first })
      .catch((err: unknown) => err);
    expect(isTwinfedError(stale, 'PLAN_SUPERSEDED')).toBe(true);
    await decide(fx, e, fed.id, 'site-b', 'approved');
    expect(await fx.store.listRounds(fed.id)).toEqual([]);
    await decide(fx, e, fed.id, 'site-a', 'approved');
    expect(await selected(fx, fed.id, 1)).toEqual(['site-a', 'site-b']);
    e.close();
  });

  test('a restarted engine leaves a waiting federation waiting (no version, no round) until the approvals come', async () => {
    const fx = await engineFixture({ sites: 2 });
    const first = fx.engine();
    const fed = await first.createFederation(requiring(), 'test');
    await decide(fx, first, fed.id, 'site-a', 'approved');
    first.close();
    const second = fx.engine();
    await second.resume();
    expect(await fx.store.getFederation(fed.id)).toMatchObject({ currentRound: 0, latestVersionId: null });
    expect(await fx.store.listVersions({ federationId: fed.id })).toEqual([]);
    await decide(fx, second, fed.id, 'site-b', 'approved');
    expect(await selected(fx, fed.id, 1)).toEqual(['site-a', 'site-b']);
    second.close();
  });

  test('a plan changes only before round 1, and only while its federation runs', async () => {
    const fx = await engineFixture({ sites: 2 });
    const e = fx.engine();
    const fed = await e.createFederation(requiring(), 'test');
    const invalid = await e.amendPlan(fed.id, { ...requiring(), rounds: 0 }, 'operator:ops').catch((x: unknown) => x);
    expect(isTwinfedError(invalid, 'INVALID_PLAN')).toBe(true);
    // Amended to a plan without approvals, round 1 opens at once.
    await e.amendPlan(fed.id, fixturePlan({ rounds: 2, minSites: 2 }), 'operator:ops');
    expect(await selected(fx, fed.id, 1)).toEqual(['site-a', 'site-b']);
    const started = await e.amendPlan(fed.id, requiring(), 'operator:ops').catch((x: unknown) => x);
    expect(isTwinfedError(started, 'FEDERATION_STARTED')).toBe(true);
    const unknown = await e.amendPlan('fed-none', requiring(), 'operator:ops').catch((x: unknown) => x);
    expect(isTwinfedError(unknown, 'UNKNOWN_FEDERATION')).toBe(true);
    const audit = (await fx.store.listAudit({ limit: 100 })).filter((x) => x.action === 'federation.plan_amended');
    expect(audit).toHaveLength(1);
    expect(audit[0]!.detail).toEqual({
      previousPlanSha256: planDigest(PlanSchema.parse(requiring())),
      planSha256: planDigest(PlanSchema.parse(fixturePlan({ rounds: 2, minSites: 2 }))),
    });
    e.close();
  });
});

describe('without governance.requireApprovals', () => {
  test('selection leaves out the sites that rejected or revoked the current plan; pending sites stay eligible', async () => {
    const fx = await engineFixture({ sites: 4 });
    const e = fx.engine();
    const fed = await e.createFederation(fixturePlan({ rounds: 2, minSites: 2 }), 'test');
    expect(await selected(fx, fed.id, 1)).toEqual(['site-a', 'site-b', 'site-c', 'site-d']);
    await decide(fx, e, fed.id, 'site-a', 'approved');
    await decide(fx, e, fed.id, 'site-b', 'rejected');
    await decide(fx, e, fed.id, 'site-c', 'revoked');
    for (const s of fx.sites) await fx.upload(e, fed.id, s);
    expect(await selected(fx, fed.id, 2)).toEqual(['site-a', 'site-d']);
    e.close();
  });

  test('a decision is refused once the federation ended, and repeating one changes nothing', async () => {
    const fx = await engineFixture({ sites: 2 });
    const e = fx.engine();
    const fed = await e.createFederation(fixturePlan({ rounds: 1, minSites: 2 }), 'test');
    const first = await decide(fx, e, fed.id, 'site-a', 'approved');
    expect(await decide(fx, e, fed.id, 'site-a', 'approved')).toEqual(first);
    expect(
      (await fx.store.listAudit({ limit: 100 })).filter((x) => x.action === 'site.plan_decision').map((x) => x.detail),
    ).toEqual([{ decision: 'approved', planSha256: await digestOf(fx, fed.id) }]);
    await fx.drive(e, fed.id);
    expect((await fx.store.getFederation(fed.id))!.state).toBe('completed');
    const late = await decide(fx, e, fed.id, 'site-b', 'approved').catch((x: unknown) => x);
    expect(isTwinfedError(late, 'FEDERATION_NOT_RUNNING')).toBe(true);
    e.close();
  });
});
