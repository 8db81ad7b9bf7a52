import {
  PlanSchema,
  planDigest,
  routes,
  verifyModelVersion,
  verifySignedPlan,
  type CurrentRound,
  type FederationView,
} from '@twinfed/shared';
import { enrollTestSite, operator, startTestCoordinator, testPlan } from '../__tests__/harness';

/** Issue 16, finding 6: the federation a site reads carries the coordinator's signed statement of its plan. */
describe('signed plans', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  beforeAll(async () => {
    c = await startTestCoordinator({ store: 'sqlite' });
  });
  afterAll(async () => c.close());

  test('rounds/current and the federation carry a statement that verifies under the pinned key; versions sign the same digest', async () => {
    const site = await enrollTestSite(c, 'Alpha');
    await enrollTestSite(c, 'Beta');
    const created = (await (
      await operator(c, 'POST', routes.federations, {
        plan: testPlan({ data: { features: ['a', 'b', 'c'], population: { k: 12 } } }),
      })
    ).json()) as FederationView;
    const cur = (await (await site.request('GET', routes.currentRound(created.id))).json()) as CurrentRound;
    const fed = (await (await site.request('GET', routes.federation(created.id))).json()) as FederationView;
    const key = site.coordinatorSignPublicKey;
    for (const f of [cur.federation, fed, created]) {
      const plan = PlanSchema.parse(f.plan);
      expect(
        verifySignedPlan({ federationId: created.id, plan, signedPlan: f.signedPlan, coordinatorSignPublicKey: key }),
      ).toBe(planDigest(plan));
      expect(f.signedPlan).toMatchObject({ federationId: created.id, createdAt: created.createdAt });
    }
    expect(fed.signedPlan).toEqual(cur.federation.signedPlan);
    const v0 = (await (await site.request('GET', routes.model(fed.latestVersionId!))).json()) as {
      meta: unknown;
      signature: string;
    };
    expect(verifyModelVersion({ ...v0, coordinatorSignPublicKey: key }).planSha256).toBe(fed.signedPlan!.planSha256);
    // A plan with k lowered does not verify against the statement served.
    const lowered = PlanSchema.parse({
      ...fed.plan,
      data: { ...fed.plan.data, population: { ...fed.plan.data.population!, k: 2 } },
    });
    expect(() =>
      verifySignedPlan({
        federationId: created.id,
        plan: lowered,
        signedPlan: fed.signedPlan,
        coordinatorSignPublicKey: key,
      }),
    ).toThrow(expect.objectContaining({ code: 'PLAN_SIGNATURE_INVALID' }));
  });
});
