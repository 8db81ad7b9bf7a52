import { PROTOCOL_VERSION, publicPart, routes, signRequest } from '@twinfed/shared';
import { enrollTestSite, operator, startTestCoordinator } from '../testing/harness';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;

const invite = async (c: Coordinator, siteName: string): Promise<string> =>
  ((await (await operator(c, 'POST', routes.invitations, { siteName })).json()) as { token: string }).token;

const post = (c: Coordinator, body: unknown) =>
  fetch(c.url + routes.enroll, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const errorCode = async (res: Response) => `${res.status} ${((await res.json()) as { error?: { code?: string } }).error?.code}`;

describe("enrollment with another site's public keys", () => {
  let c: Coordinator;
  beforeAll(async () => {
    c = await startTestCoordinator();
  });
  afterAll(async () => {
    await c.close();
  });

  test("is refused without proof of possession, the token stays unused, and the victim's key gains no second identity", async () => {
    const victim = await enrollTestSite(c, 'Alpha');
    const token = await invite(c, 'Mallory');
    expect(await errorCode(await post(c, { protocol: PROTOCOL_VERSION, token, ...publicPart(victim.identity) }))).toBe('401 ENROLL_PROOF_INVALID');
    const sites = (await (await operator(c, 'GET', routes.adminSites)).json()) as { sites: Array<{ id: string }> };
    expect(sites.sites.map((s) => s.id)).toEqual([victim.siteId]);
    expect((await c.store.listInvitations()).find((i) => i.siteName === 'Mallory')?.usedAt).toBeNull();
    // The victim's key still signs as the victim only.
    const self = await fetch(c.url + routes.siteSelf, { headers: signRequest({ method: 'GET', path: routes.siteSelf, body: new Uint8Array(0), siteId: victim.siteId, signSecretKey: victim.identity.sign.secretKey }) });
    expect(self.status).toBe(200);
  });
});
