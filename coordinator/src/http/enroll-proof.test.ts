import {
  PROTOCOL_VERSION,
  generateIdentity,
  publicPart,
  routes,
  signEnrollProof,
  signRequest,
  type Identity,
} from '@twinfed/shared';
import { enrollTestSite, operator, startTestCoordinator } from '../__tests__/harness';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;

const invite = async (c: Coordinator, siteName: string): Promise<string> =>
  ((await (await operator(c, 'POST', routes.invitations, { siteName })).json()) as { token: string }).token;

/** POSTs an enrollment with `token` presenting the public keys of `presented` and `proof` (JSON drops an omitted one). */
const enroll = (c: Coordinator, token: string, presented: Identity, proof?: unknown) =>
  fetch(c.url + routes.enroll, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ protocol: PROTOCOL_VERSION, token, ...publicPart(presented), proof }),
  });

const errorCode = async (res: Response) =>
  `${res.status} ${((await res.json()) as { error?: { code?: string } }).error?.code}`;

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
    expect(await errorCode(await enroll(c, token, victim.identity))).toBe('401 ENROLL_PROOF_INVALID');
    const sites = (await (await operator(c, 'GET', routes.adminSites)).json()) as { sites: Array<{ id: string }> };
    expect(sites.sites.map((s) => s.id)).toEqual([victim.siteId]);
    expect((await c.store.listInvitations()).find((i) => i.siteName === 'Mallory')?.usedAt).toBeNull();
    // The victim's key still signs as the victim only.
    const self = await fetch(c.url + routes.siteSelf, {
      headers: signRequest({
        method: 'GET',
        path: routes.siteSelf,
        body: new Uint8Array(0),
        siteId: victim.siteId,
        signSecretKey: victim.identity.sign.secretKey,
      }),
    });
    expect(self.status).toBe(200);
  });
});

describe('enrollment proves possession of both keys', () => {
  let c: Coordinator;
  beforeAll(async () => {
    c = await startTestCoordinator();
  });
  afterAll(async () => {
    await c.close();
  });
  const keys = async () =>
    (await (await fetch(c.url + routes.coordinatorKeys)).json()) as { signPublicKey: string; boxPublicKey: string };

  test('a proof by other keys, for another token or for another coordinator is refused; the token then enrolls its owner', async () => {
    const victim = await enrollTestSite(c, 'Alpha');
    const mallory = generateIdentity();
    const token = await invite(c, 'Mallory');
    const coordinator = await keys();
    const refused = '401 ENROLL_PROOF_INVALID';
    // Signed by Mallory's keys, presenting the victim's keys.
    const refusal = async (presented: Identity, proof: unknown) => errorCode(await enroll(c, token, presented, proof));
    expect(await refusal(victim.identity, signEnrollProof({ token, coordinator, identity: mallory }))).toBe(refused);
    // Mallory's signing key with the victim's box key: the signature verifies but the box MAC cannot be made.
    const mixed: Identity = {
      sign: mallory.sign,
      box: { publicKey: victim.identity.box.publicKey, secretKey: mallory.box.secretKey },
    };
    expect(await refusal(mixed, signEnrollProof({ token, coordinator, identity: mixed }))).toBe(refused);
    // A genuine proof, but made for another token or for another coordinator's keys.
    const otherToken = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect(await refusal(mallory, signEnrollProof({ token: otherToken, coordinator, identity: mallory }))).toBe(
      refused,
    );
    expect(
      await refusal(
        mallory,
        signEnrollProof({ token, coordinator: publicPart(generateIdentity()), identity: mallory }),
      ),
    ).toBe(refused);
    // Garbage in the proof fields.
    expect(await refusal(mallory, { signature: 'AAAA', boxProof: 'AAAA' })).toBe(refused);
    expect((await c.store.listInvitations()).find((i) => i.siteName === 'Mallory')?.usedAt).toBeNull();
    // None of that spent the token: Mallory enrolls her own keys with it.
    const ok = await enroll(c, token, mallory, signEnrollProof({ token, coordinator, identity: mallory }));
    expect(ok.status).toBe(201);
  });

  test("a site's own keys enroll once: a second token with the same keys is KEY_IN_USE and stays unused", async () => {
    const site = await enrollTestSite(c, 'Beta');
    const token = await invite(c, 'Beta again');
    const coordinator = await keys();
    const res = await enroll(c, token, site.identity, signEnrollProof({ token, coordinator, identity: site.identity }));
    expect(await errorCode(res)).toBe('409 KEY_IN_USE');
    expect((await c.store.listInvitations()).find((i) => i.siteName === 'Beta again')?.usedAt).toBeNull();
    const fresh = generateIdentity();
    expect((await enroll(c, token, fresh, signEnrollProof({ token, coordinator, identity: fresh }))).status).toBe(201);
  });
});
