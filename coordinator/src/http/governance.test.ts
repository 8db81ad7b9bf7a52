import {
  PlanSchema,
  planDigest,
  routes,
  verifyModelVersion,
  verifySignedPlan,
  type FederationView,
  type OfferedFederation,
  type SiteDecisionView,
} from '@twinfed/shared';
import { enrollTestSite, json, operator, startTestCoordinator, testPlan, type TestSite } from '../__tests__/harness';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;
type ErrorAnswer = { error: { code: string; details?: unknown } };

const requiring = (extra: Record<string, unknown> = {}) =>
  testPlan({ governance: { requireApprovals: true }, ...extra });

async function create(c: Coordinator, plan: Record<string, unknown>): Promise<FederationView> {
  const res = await operator(c, 'POST', routes.federations, { plan });
  expect(res.status).toBe(201);
  return json<FederationView>(res);
}

const digestOf = (f: FederationView) => planDigest(PlanSchema.parse(f.plan));

const decide = (site: TestSite, fid: string, decision: string, planSha256: string) =>
  site.request('PUT', routes.federationDecision(fid), { decision, planSha256 });

async function expectError(res: Promise<Response> | Response, status: number, code: string): Promise<ErrorAnswer> {
  const r = await res;
  const body = await json<ErrorAnswer>(r);
  expect({ status: r.status, code: body.error?.code }).toEqual({ status, code });
  return body;
}

describe('plan decisions over HTTP', () => {
  let c: Coordinator;
  let a: TestSite;
  let b: TestSite;
  beforeAll(async () => {
    c = await startTestCoordinator({ store: 'sqlite' });
    a = await enrollTestSite(c, 'Alpha');
    b = await enrollTestSite(c, 'Beta');
  });
  afterAll(async () => c.close());

  test('a site sees each running federation offered to it with its decision; its approval is shown to operators and researchers', async () => {
    const fed = await create(c, requiring());
    const offered = await json<{ federations: OfferedFederation[] }>(a.request('GET', routes.siteFederations));
    const mine = offered.federations.find((o) => o.federation.id === fed.id)!;
    expect(mine.decision).toEqual({
      federationId: fed.id,
      siteId: a.siteId,
      siteName: 'Alpha',
      decision: 'pending',
      planSha256: null,
      decidedAt: null,
    });
    expect(
      verifySignedPlan({
        federationId: fed.id,
        plan: PlanSchema.parse(mine.federation.plan),
        signedPlan: mine.federation.signedPlan,
        coordinatorSignPublicKey: a.coordinatorSignPublicKey,
      }),
    ).toBe(digestOf(fed));

    const res = await decide(a, fed.id, 'approved', digestOf(fed));
    expect(res.status).toBe(200);
    const view = await json<SiteDecisionView>(res);
    expect(view).toMatchObject({ siteId: a.siteId, decision: 'approved', planSha256: digestOf(fed) });
    const again = await json<{ federations: OfferedFederation[] }>(a.request('GET', routes.siteFederations));
    expect(again.federations.find((x) => x.federation.id === fed.id)!.decision).toEqual(view);

    const listed = await json<{ decisions: SiteDecisionView[] }>(
      operator(c, 'GET', routes.federationDecisions(fed.id)),
    );
    expect(listed.decisions.map((d) => [d.siteName, d.decision])).toEqual(
      expect.arrayContaining([
        ['Alpha', 'approved'],
        ['Beta', 'pending'],
      ]),
    );
    const audit = await json<{ entries: Array<{ action: string; actor: string; detail: unknown }> }>(
      operator(c, 'GET', `${routes.audit}?limit=1000`),
    );
    expect(audit.entries.filter((e) => e.action === 'site.plan_decision')).toEqual([
      expect.objectContaining({
        actor: `site:${a.siteId}`,
        detail: { decision: 'approved', planSha256: digestOf(fed) },
      }),
    ]);
  });

  test('deciding again is idempotent: the same answer, the first time kept, one audit entry', async () => {
    const fed = await create(c, requiring());
    const first = await json<SiteDecisionView>(decide(b, fed.id, 'rejected', digestOf(fed)));
    const second = await decide(b, fed.id, 'rejected', digestOf(fed));
    expect(second.status).toBe(200);
    expect(await json<SiteDecisionView>(second)).toEqual(first);
    const audit = await json<{ entries: Array<{ action: string; subject: string }> }>(
      operator(c, 'GET', `${routes.audit}?limit=1000`),
    );
    expect(audit.entries.filter((e) => e.action === 'site.plan_decision' && e.subject === fed.id)).toHaveLength(1);
  });

  test('with requireApprovals, round 1 opens on the approval that reaches minSites, from a version signed with the approved plan', async () => {
    const fed = await create(c, requiring());
    expect(fed).toMatchObject({ currentRound: 0, latestVersionId: null });
    await decide(a, fed.id, 'approved', digestOf(fed));
    expect((await json<FederationView>(operator(c, 'GET', routes.federation(fed.id)))).currentRound).toBe(0);
    await decide(b, fed.id, 'approved', digestOf(fed));
    const now = await json<FederationView>(operator(c, 'GET', routes.federation(fed.id)));
    expect(now.currentRound).toBe(1);
    const v0 = await json<{ meta: unknown; signature: string }>(a.request('GET', routes.model(now.latestVersionId!)));
    expect(verifyModelVersion({ ...v0, coordinatorSignPublicKey: a.coordinatorSignPublicKey }).planSha256).toBe(
      digestOf(fed),
    );
  });

  test('refusals: another plan hash (PLAN_SUPERSEDED), unknown, ended, a name in the body', async () => {
    const fed = await create(c, requiring());
    const superseded = await expectError(decide(a, fed.id, 'approved', 'f'.repeat(64)), 409, 'PLAN_SUPERSEDED');
    expect(superseded.error.details).toEqual({ planSha256: digestOf(fed) });
    await expectError(decide(a, 'fed-00000000', 'approved', digestOf(fed)), 404, 'UNKNOWN_FEDERATION');
    await expectError(
      a.request('PUT', routes.federationDecision(fed.id), {
        decision: 'approved',
        planSha256: digestOf(fed),
        by: 'Dr A',
      }),
      400,
      'VALIDATION_FAILED',
    );
    await c.store.updateFederation(fed.id, { state: 'stopped' });
    await expectError(decide(a, fed.id, 'approved', digestOf(fed)), 409, 'FEDERATION_NOT_RUNNING');
    const offered = await json<{ federations: OfferedFederation[] }>(a.request('GET', routes.siteFederations));
    expect(offered.federations.map((o) => o.federation.id)).not.toContain(fed.id);
  });

  test('a site enrolled after the federation was created is offered its plan, may approve it, and is then selected', async () => {
    const fed = await create(c, requiring({ minSites: 3 }));
    await decide(a, fed.id, 'approved', digestOf(fed));
    await decide(b, fed.id, 'approved', digestOf(fed));
    expect((await json<FederationView>(operator(c, 'GET', routes.federation(fed.id)))).currentRound).toBe(0);
    const late = await enrollTestSite(c, `Late ${fed.id}`);
    const offered = await json<{ federations: OfferedFederation[] }>(late.request('GET', routes.siteFederations));
    const mine = offered.federations.find((o) => o.federation.id === fed.id)!;
    expect(mine.decision.decision).toBe('pending');
    expect(
      verifySignedPlan({
        federationId: fed.id,
        plan: PlanSchema.parse(mine.federation.plan),
        signedPlan: mine.federation.signedPlan,
        coordinatorSignPublicKey: late.coordinatorSignPublicKey,
      }),
    ).toBe(digestOf(fed));
    expect((await decide(late, fed.id, 'approved', digestOf(fed))).status).toBe(200);
    const round = await json<{ round: { selectedSiteIds: string[] } }>(
      late.request('GET', routes.currentRound(fed.id)),
    );
    expect(round.round.selectedSiteIds).toContain(late.siteId);
  });

  test('a revoked site is offered nothing and may not decide', async () => {
    const fed = await create(c, requiring());
    const gone = await enrollTestSite(c, `Gone ${fed.id}`);
    expect((await operator(c, 'POST', routes.revokeSite(gone.siteId), {})).status).toBe(200);
    await expectError(gone.request('GET', routes.siteFederations), 403, 'SITE_REVOKED');
    await expectError(decide(gone, fed.id, 'approved', digestOf(fed)), 403, 'SITE_REVOKED');
  });

  test('decisions list one entry per enrolled, non-revoked site; unknown federation 404', async () => {
    const fed = await create(c, testPlan());
    const gone = await enrollTestSite(c, `Gone ${fed.id}`);
    expect((await operator(c, 'POST', routes.revokeSite(gone.siteId), {})).status).toBe(200);
    const sites = await json<{ sites: Array<{ id: string; revokedAt: string | null }> }>(
      operator(c, 'GET', routes.adminSites),
    );
    const listed = await json<{ decisions: SiteDecisionView[] }>(
      operator(c, 'GET', routes.federationDecisions(fed.id)),
    );
    expect(listed.decisions.map((d) => d.siteId).sort()).toEqual(
      sites.sites
        .filter((s) => s.revokedAt === null)
        .map((s) => s.id)
        .sort(),
    );
    expect(listed.decisions.map((d) => d.siteId)).not.toContain(gone.siteId);
    await expectError(operator(c, 'GET', routes.federationDecisions('fed-00000000')), 404, 'UNKNOWN_FEDERATION');
  });
});

describe('amending a plan over HTTP', () => {
  let c: Coordinator;
  let a: TestSite;
  beforeAll(async () => {
    c = await startTestCoordinator();
    a = await enrollTestSite(c, 'Alpha');
    await enrollTestSite(c, 'Beta');
  });
  afterAll(async () => c.close());

  test('before round 1: the new plan with a new signed statement, every site pending again, audited with both digests', async () => {
    const fed = await create(c, requiring());
    await decide(a, fed.id, 'approved', digestOf(fed));
    const res = await operator(c, 'PUT', routes.federationPlan(fed.id), { plan: requiring({ rounds: 7 }) });
    expect(res.status).toBe(200);
    const amended = await json<FederationView>(res);
    expect(amended.plan.rounds).toBe(7);
    expect(amended.signedPlan!.planSha256).toBe(digestOf(amended));
    expect(digestOf(amended)).not.toBe(digestOf(fed));
    expect(
      verifySignedPlan({
        federationId: fed.id,
        plan: PlanSchema.parse(amended.plan),
        signedPlan: amended.signedPlan,
        coordinatorSignPublicKey: a.coordinatorSignPublicKey,
      }),
    ).toBe(digestOf(amended));
    const listed = await json<{ decisions: SiteDecisionView[] }>(
      operator(c, 'GET', routes.federationDecisions(fed.id)),
    );
    expect(listed.decisions.find((d) => d.siteId === a.siteId)).toMatchObject({
      decision: 'pending',
      planSha256: digestOf(fed),
    });
    await expectError(decide(a, fed.id, 'approved', digestOf(fed)), 409, 'PLAN_SUPERSEDED');
    const audit = await json<{ entries: Array<{ action: string; actor: string; detail: unknown }> }>(
      operator(c, 'GET', `${routes.audit}?limit=1000`),
    );
    expect(audit.entries.find((e) => e.action === 'federation.plan_amended')).toMatchObject({
      actor: 'operator:bootstrap-operator',
      detail: { previousPlanSha256: digestOf(fed), planSha256: digestOf(amended) },
    });
  });

  test('refusals: started (FEDERATION_STARTED), invalid plan, unknown, ended; a site may not', async () => {
    const started = await create(c, testPlan());
    expect(started.currentRound).toBe(1);
    await expectError(
      operator(c, 'PUT', routes.federationPlan(started.id), { plan: testPlan({ rounds: 3 }) }),
      409,
      'FEDERATION_STARTED',
    );
    const waiting = await create(c, requiring());
    const invalid = await expectError(
      operator(c, 'PUT', routes.federationPlan(waiting.id), { plan: { ...requiring(), rounds: 0 } }),
      400,
      'INVALID_PLAN',
    );
    expect(invalid.error.details).toEqual([expect.objectContaining({ path: 'rounds' })]);
    await expectError(
      operator(c, 'PUT', routes.federationPlan('fed-00000000'), { plan: requiring() }),
      404,
      'UNKNOWN_FEDERATION',
    );
    await expectError(a.request('PUT', routes.federationPlan(waiting.id), { plan: requiring() }), 403, 'FORBIDDEN');
    await c.store.updateFederation(waiting.id, { state: 'stopped' });
    await expectError(
      operator(c, 'PUT', routes.federationPlan(waiting.id), { plan: requiring({ rounds: 4 }) }),
      409,
      'FEDERATION_NOT_RUNNING',
    );
  });
});
