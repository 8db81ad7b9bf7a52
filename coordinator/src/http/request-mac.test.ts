import {
  MAC_HEADER,
  NONCE_HEADER,
  SIGNATURE_HEADER,
  SITE_NAMESPACE,
  generateIdentity,
  macHandshake,
  macRequest,
  routes,
  signRequest,
  siteRequestMacKey,
  type RequestMacKey,
} from '@twinfed/shared';
import { io as connect } from 'socket.io-client';
import {
  enrollTestSite,
  json,
  operator,
  sealedUpdate,
  startTestCoordinator,
  testPlan,
  type TestSite,
} from '../__tests__/harness';
import { SiteMacKeys } from './site-mac-keys';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;

/** The site's request MAC key with the coordinator it enrolled with. */
const keyOf = (site: TestSite, siteId = site.siteId): RequestMacKey =>
  siteRequestMacKey({
    siteId,
    siteBoxSecretKey: site.identity.box.secretKey,
    coordinatorBoxPublicKey: site.coordinatorBoxPublicKey,
  })!;

/** A MAC'd request (JSON object, bytes or nothing); `digest: false` leaves out the body digest header. */
async function macd(
  c: Coordinator,
  key: RequestMacKey,
  method: string,
  p: string,
  body?: Uint8Array | object,
  o: { digest?: boolean; headers?: Record<string, string>; now?: number } = {},
): Promise<Response> {
  const bytes =
    body === undefined ? new Uint8Array(0) : body instanceof Uint8Array ? body : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = {
    ...macRequest({ method, path: p, body: bytes, key, ...(o.now !== undefined ? { now: o.now } : {}) }),
    ...o.headers,
  };
  if (o.digest === false) delete headers['x-twinfed-content-sha256'];
  if (body !== undefined)
    headers['content-type'] = body instanceof Uint8Array ? 'application/octet-stream' : 'application/json';
  return fetch(c.url + p, { method, headers, ...(body === undefined ? {} : { body: bytes }) });
}

const codeOf = async (res: Response): Promise<[number, string]> => [
  res.status,
  ((await res.json()) as { error: { code: string } }).error.code,
];

describe('site requests authenticated by a MAC', () => {
  let c: Coordinator;
  let a: TestSite;
  let b: TestSite;
  let fid: string;
  beforeAll(async () => {
    c = await startTestCoordinator();
    a = await enrollTestSite(c, 'Alpha');
    b = await enrollTestSite(c, 'Beta');
    fid = (await json<{ id: string }>(operator(c, 'POST', routes.federations, { plan: testPlan({ minSites: 2 }) }))).id;
  });
  afterAll(() => c.close());

  test('are accepted on a GET, a JSON POST (with and without the body digest) and the binary upload', async () => {
    const key = keyOf(a);
    const self = await macd(c, key, 'GET', routes.siteSelf);
    expect(self.status).toBe(200);
    expect(((await self.json()) as { id: string }).id).toBe(a.siteId);
    const { current, sealed } = await sealedUpdate(a, fid);
    const round = current.round!;
    const evaluation = { n: 25, metrics: { auc: 0.8 } };
    expect((await macd(c, key, 'POST', routes.modelEvaluations(round.baseVersionId), evaluation)).status).toBe(201);
    const again = await macd(c, key, 'POST', routes.modelEvaluations(round.baseVersionId), evaluation, {
      digest: false,
    });
    expect(again.status).toBeLessThan(300);
    const upload = await macd(c, key, 'POST', routes.updates(fid, round.round), sealed);
    expect(upload.status).toBe(201);
    // The MAC covers the body: the same headers over other bytes are refused, digest header or not.
    const headers = macRequest({ method: 'POST', path: routes.modelEvaluations(round.baseVersionId), body: '{}', key });
    const other = await fetch(c.url + routes.modelEvaluations(round.baseVersionId), {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(evaluation),
    });
    expect(await codeOf(other)).toEqual([401, 'BAD_SIGNATURE']);
  });

  test('a request with both a signature and a MAC is UNAUTHENTICATED', async () => {
    const signed = signRequest({
      method: 'GET',
      path: routes.siteSelf,
      siteId: a.siteId,
      signSecretKey: a.identity.sign.secretKey,
    });
    const res = await macd(c, keyOf(a), 'GET', routes.siteSelf, undefined, {
      headers: { [SIGNATURE_HEADER]: signed[SIGNATURE_HEADER]! },
    });
    expect(await codeOf(res)).toEqual([401, 'UNAUTHENTICATED']);
  });

  test("a forged MAC, another site's key or a key from another box key is BAD_SIGNATURE", async () => {
    const forged = await macd(c, keyOf(a), 'GET', routes.siteSelf, undefined, {
      headers: { [MAC_HEADER]: Buffer.alloc(32, 9).toString('base64') },
    });
    expect(await codeOf(forged)).toEqual([401, 'BAD_SIGNATURE']);
    // b's box key with a's id: the key b would derive if it claimed to be a.
    expect(await codeOf(await macd(c, keyOf(b, a.siteId), 'GET', routes.siteSelf))).toEqual([401, 'BAD_SIGNATURE']);
    const stranger = siteRequestMacKey({
      siteId: a.siteId,
      siteBoxSecretKey: generateIdentity().box.secretKey,
      coordinatorBoxPublicKey: a.coordinatorBoxPublicKey,
    })!;
    expect(await codeOf(await macd(c, stranger, 'GET', routes.siteSelf))).toEqual([401, 'BAD_SIGNATURE']);
  });

  test('a replayed nonce is REPLAYED_REQUEST, a stale one STALE_REQUEST', async () => {
    const headers = macRequest({ method: 'GET', path: routes.siteSelf, key: keyOf(a) });
    expect((await fetch(c.url + routes.siteSelf, { headers })).status).toBe(200);
    expect(await codeOf(await fetch(c.url + routes.siteSelf, { headers }))).toEqual([401, 'REPLAYED_REQUEST']);
    const stale = await macd(c, keyOf(a), 'GET', routes.siteSelf, undefined, { now: Date.now() - 3_600_000 });
    expect(await codeOf(stale)).toEqual([401, 'STALE_REQUEST']);
    expect(headers[NONCE_HEADER]).toBeDefined();
  });

  test('a revoked site is refused; the socket handshake takes a MAC too, and refuses it alike', async () => {
    const g = await enrollTestSite(c, 'Gamma');
    const key = keyOf(g);
    const handshake = (auth: object) =>
      new Promise<boolean>((resolve) => {
        const s = connect(c.url + SITE_NAMESPACE, {
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
          auth,
        });
        const done = (ok: boolean) => {
          s.removeAllListeners();
          s.disconnect();
          resolve(ok);
        };
        s.once('connect', () => done(true));
        s.once('connect_error', () => done(false));
      });
    expect(await handshake(macHandshake({ key }))).toBe(true);
    const replayed = macHandshake({ key });
    expect(await handshake(replayed)).toBe(true);
    expect(await handshake(replayed)).toBe(false);
    expect(await handshake(macHandshake({ key: keyOf(b, g.siteId) }))).toBe(false);
    expect((await operator(c, 'POST', routes.revokeSite(g.siteId))).status).toBe(200);
    expect(await codeOf(await macd(c, key, 'GET', routes.siteSelf))).toEqual([403, 'SITE_REVOKED']);
    expect(await handshake(macHandshake({ key }))).toBe(false);
  });
});

describe('SiteMacKeys', () => {
  test('derives the key the site derives, and a changed box key is never served from the cache', () => {
    const coordinator = generateIdentity();
    const one = generateIdentity();
    const two = generateIdentity();
    const keys = new SiteMacKeys(coordinator, 2);
    const b64 = (x: Uint8Array) => Buffer.from(x).toString('base64');
    const siteKey = (id: typeof one) =>
      siteRequestMacKey({
        siteId: 's1',
        siteBoxSecretKey: id.box.secretKey,
        coordinatorBoxPublicKey: coordinator.box.publicKey,
      })!;
    const first = keys.keyFor({ id: 's1', boxPublicKey: b64(one.box.publicKey) })!;
    expect(first.pads).toEqual(siteKey(one).pads);
    const changed = keys.keyFor({ id: 's1', boxPublicKey: b64(two.box.publicKey) })!;
    expect(changed.pads).toEqual(siteKey(two).pads);
    expect(changed.pads).not.toEqual(first.pads);
    for (let i = 0; i < 5; i++) keys.keyFor({ id: `s${i + 2}`, boxPublicKey: b64(one.box.publicKey) }); // bounded
    expect(keys.keyFor({ id: 's1', boxPublicKey: b64(one.box.publicKey) })!.pads).toEqual(siteKey(one).pads);
    expect(keys.keyFor({ id: 's1', boxPublicKey: b64(new Uint8Array(32)) })).toBeNull(); // low order: no key
    expect(keys.keyFor({ id: 's1', boxPublicKey: 'not base64!' })).toBeNull();
  });
});
