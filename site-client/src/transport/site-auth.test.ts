import { Writable } from 'node:stream';
import {
  MAC_HEADER,
  SIGNATURE_HEADER,
  coordinatorRequestMacKey,
  createLogger,
  generateIdentity,
  limits,
  routes,
  verifyHandshake,
  verifyRequest,
  verifyRequestMac,
} from '@twinfed/shared';
import { HttpTransport, type FetchLike } from './http';
import { SiteAuthenticator } from './site-auth';

const coordinator = generateIdentity();
const site = generateIdentity();
const credentials = {
  siteId: 'site-a',
  signSecretKey: site.sign.secretKey,
  boxSecretKey: site.box.secretKey,
  coordinatorBoxPublicKey: coordinator.box.publicKey,
};
const coordinatorKey = coordinatorRequestMacKey({
  siteId: 'site-a',
  siteBoxPublicKey: site.box.publicKey,
  coordinatorBoxSecretKey: coordinator.box.secretKey,
});

interface Seen {
  path: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

/** A coordinator double: answers each request with `answer(request)` and records what it saw. */
function coordinatorFetch(answer: (r: Seen) => Response): FetchLike & { seen: Seen[] } {
  const seen: Seen[] = [];
  const f = (async (url: string, init: RequestInit) => {
    const u = new URL(url);
    const r = {
      path: u.pathname + u.search,
      method: String(init.method),
      headers: init.headers as Record<string, string>,
      body: typeof init.body === 'string' ? init.body : '',
    };
    seen.push(r);
    return answer(r);
  }) as FetchLike & { seen: Seen[] };
  f.seen = seen;
  return f;
}

const ok = (): Response => Response.json({ ok: true });
/** What a coordinator from before request MACs answers a request without a signature header. */
const noSignature = (): Response =>
  Response.json({ error: { code: 'UNAUTHENTICATED', message: 'Authentication required.' } }, { status: 401 });
const verifiesAsMac = (r: Seen) =>
  verifyRequestMac({
    ...r,
    key: coordinatorKey,
    now: Date.now(),
    windowMs: limits.requestWindowMs,
  }).siteId === 'site-a';
const verifiesAsSignature = (r: Seen) =>
  verifyRequest({
    ...r,
    signPublicKey: site.sign.publicKey,
    now: Date.now(),
    windowMs: limits.requestWindowMs,
  }).siteId === 'site-a';

function logLines(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', bindings: { component: 'test' }, destination }), lines };
}

const transport = (fetch: FetchLike, auth: SiteAuthenticator) =>
  new HttpTransport({
    baseUrl: 'http://coord.test/prefix',
    credentials: auth,
    fetch,
    retry: { retries: 2, baseMs: 1, maxMs: 1 },
    sleep: async () => undefined,
  });

describe('site requests authenticated by a MAC', () => {
  test('every request carries a MAC under the key the coordinator derives, and no signature', async () => {
    const fetch = coordinatorFetch(ok);
    const t = transport(fetch, new SiteAuthenticator(credentials));
    await t.send({ method: 'GET', path: routes.siteSelf });
    await t.send({ method: 'POST', path: '/v1/models/v1/evaluations', json: { n: 3, metrics: {} } });
    await t.send({ method: 'POST', path: '/v1/x', binary: new Uint8Array([1, 2, 3]) });
    expect(fetch.seen).toHaveLength(3);
    for (const r of fetch.seen.slice(0, 2)) {
      expect(r.headers[SIGNATURE_HEADER]).toBeUndefined();
      expect(verifiesAsMac(r)).toBe(true);
    }
    expect(fetch.seen[2]!.headers[MAC_HEADER]).toBeDefined();
  });

  test('against a coordinator that takes no MACs: the refused request is sent again at once, signed, and every later one is signed (logged once)', async () => {
    const fetch = coordinatorFetch((r) => (r.headers[SIGNATURE_HEADER] === undefined ? noSignature() : ok()));
    const { logger, lines } = logLines();
    const auth = new SiteAuthenticator(credentials, { logger });
    const t = transport(fetch, auth);
    const second = transport(fetch, auth); // another transport of the same site learns it too
    const res = await t.send({ method: 'POST', path: '/v1/models/v1/evaluations', json: { n: 3, metrics: {} } });
    expect(res.status).toBe(200);
    await second.send({ method: 'GET', path: routes.siteSelf });
    await t.send({ method: 'GET', path: routes.siteSelf });
    expect(fetch.seen.map((r) => (r.headers[MAC_HEADER] ? 'mac' : 'signature'))).toEqual([
      'mac',
      'signature',
      'signature',
      'signature',
    ]);
    for (const r of fetch.seen.slice(1)) expect(verifiesAsSignature(r)).toBe(true);
    expect(auth.usesMac).toBe(false);
    const warned = lines.filter((l) => /takes no request MACs/.test(String(l.msg)));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 40, siteId: 'site-a' });
    // The socket handshake is signed too.
    expect(auth.handshake().signature).toBeDefined();
  });

  test('any other refusal of a MAC is not a reason to sign: it comes back as sent', async () => {
    const fetch = coordinatorFetch(() =>
      Response.json({ error: { code: 'BAD_SIGNATURE', message: 'x' } }, { status: 401 }),
    );
    const auth = new SiteAuthenticator(credentials);
    await expect(transport(fetch, auth).send({ method: 'GET', path: routes.siteSelf })).rejects.toMatchObject({
      code: 'BAD_SIGNATURE',
    });
    expect(fetch.seen).toHaveLength(1);
    expect(auth.usesMac).toBe(true);
  });

  test("requestAuth 'signature', or no box keys, signs every request", async () => {
    for (const auth of [
      new SiteAuthenticator(credentials, { requestAuth: 'signature' }),
      new SiteAuthenticator({ siteId: 'site-a', signSecretKey: site.sign.secretKey }),
    ]) {
      const fetch = coordinatorFetch(ok);
      await transport(fetch, auth).send({ method: 'GET', path: routes.siteSelf });
      expect(verifiesAsSignature(fetch.seen[0]!)).toBe(true);
      expect(fetch.seen[0]!.headers[MAC_HEADER]).toBeUndefined();
    }
  });

  test('the socket handshake is MAC’d; once one is refused before HTTP took a MAC, signed until HTTP does', async () => {
    const auth = new SiteAuthenticator(credentials);
    const verify = (h: object) =>
      verifyHandshake({
        auth: h,
        signPublicKey: site.sign.publicKey,
        macKey: coordinatorKey,
        now: Date.now(),
        windowMs: limits.requestWindowMs,
      }).siteId;
    const first = auth.handshake();
    expect(first.mac !== undefined && first.signature === undefined).toBe(true);
    expect(verify(first)).toBe('site-a');
    auth.handshakeRefused(false); // a refused signed handshake changes nothing
    expect(auth.handshake().mac).toBeDefined();
    auth.handshakeRefused(true); // a coordinator without MACs, perhaps
    const signed = auth.handshake();
    expect(signed.signature !== undefined && signed.mac === undefined).toBe(true);
    expect(verify(signed)).toBe('site-a');
    await transport(coordinatorFetch(ok), auth).send({ method: 'GET', path: routes.siteSelf });
    expect(auth.handshake().mac).toBeDefined(); // the coordinator takes MACs after all
    auth.handshakeRefused(true); // now a refusal has another cause: MACs stay
    expect(verify(auth.handshake())).toBe('site-a');
    expect(auth.handshake().mac).toBeDefined();
  });
});
