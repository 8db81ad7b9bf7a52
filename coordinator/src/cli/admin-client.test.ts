import { TwinfedError, isTwinfedError } from '@twinfed/shared';
import { createAdminClient } from './admin-client';
import { OPERATOR_TOKEN, startFakeCoordinator, type FakeCoordinator } from './__tests__/fake-coordinator';

const respond =
  (body: unknown, init: ResponseInit = {}) =>
  async () =>
    new Response(typeof body === 'string' ? body : JSON.stringify(body), {
      status: 200,
      headers: { 'content-type': 'application/json' },
      ...init,
    });

async function failure(p: Promise<unknown>): Promise<TwinfedError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!isTwinfedError(e)) throw new Error(`expected a TwinfedError, got ${String(e)}`);
  return e;
}

describe('admin client against the fake coordinator', () => {
  let fake: FakeCoordinator;
  beforeAll(async () => {
    fake = await startFakeCoordinator();
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.seen.length = 0;
    fake.canned.clear();
  });

  test('unwraps lists and validates them', async () => {
    const client = createAdminClient({ baseUrl: `${fake.url}/`, token: OPERATOR_TOKEN });
    expect((await client.listSites()).map((s) => s.id)).toEqual(['site-a', 'site-b']);
    expect((await client.listFederations())[0]?.plan.strategy.name).toBe('fedavg');
    expect((await client.listRounds('fed-1')).map((r) => r.round)).toEqual([2, 1]);
    expect((await client.listEvaluations('fed-1.v1'))[0]?.siteId).toBe('site-a');
    expect(fake.seen.every((s) => s.authorization === `Bearer ${OPERATOR_TOKEN}`)).toBe(true);
  });

  test('sends no token to the public keys route and asks for one only when needed', async () => {
    const token = jest.fn(async () => OPERATOR_TOKEN);
    const client = createAdminClient({ baseUrl: fake.url, token });
    expect((await client.coordinatorKeys()).fingerprint).toBe(fake.keys.fingerprint);
    expect(fake.seen[0]?.authorization).toBeUndefined();
    expect(token).not.toHaveBeenCalled();
    await client.listSites();
    expect(token).toHaveBeenCalledTimes(1);
  });

  test('turns an error body into the same TwinfedError', async () => {
    fake.canned.set('GET /v1/admin/sites', {
      status: 403,
      body: { error: { code: 'FORBIDDEN', message: 'no', details: { role: 'researcher' } } },
    });
    const e = await failure(createAdminClient({ baseUrl: fake.url, token: OPERATOR_TOKEN }).listSites());
    expect([e.code, e.status, e.message, e.details]).toEqual(['FORBIDDEN', 403, 'no', { role: 'researcher' }]);
  });

  test('rejects a response that does not match the schema', async () => {
    fake.canned.set('GET /v1/admin/sites', { status: 200, body: { sites: [{ id: 'x' }] } });
    const e = await failure(createAdminClient({ baseUrl: fake.url, token: OPERATOR_TOKEN }).listSites());
    expect(e.code).toBe('INTERNAL');
    expect(e.message).toBe(
      'Unexpected response to GET /v1/admin/sites at sites[0].name: Invalid input: expected string, received undefined.',
    );
  });

  test('downloads weights with their unquoted ETag', async () => {
    const w = await createAdminClient({ baseUrl: fake.url, token: OPERATOR_TOKEN }).downloadWeights('fed-1.v1');
    expect(Buffer.from(w.bytes).equals(Buffer.from(fake.weights.get('fed-1.v1')!))).toBe(true);
    expect(w.etag).toBe(fake.versions[1]!.weightsSha256);
  });

  test('without any token, fails before sending', async () => {
    const e = await failure(createAdminClient({ baseUrl: fake.url }).listSites());
    expect(e.code).toBe('UNAUTHENTICATED');
    expect(fake.seen).toHaveLength(0);
  });
});

describe('admin client with an injected fetch', () => {
  test('reads lists as the contract wraps them and a weak ETag', async () => {
    const client = createAdminClient({ baseUrl: 'http://x', token: 't', fetch: respond({ models: [] }) });
    expect(await client.listModels({ federationId: 'f' })).toEqual([]);
    const weights = createAdminClient({
      baseUrl: 'http://x',
      token: 't',
      fetch: respond('abc', { headers: { etag: 'W/"00ff"' } }),
    });
    expect((await weights.downloadWeights('v')).etag).toBe('00ff');
  });

  test('a body that is not a twinfed error keeps the HTTP status in the message', async () => {
    const client = createAdminClient({
      baseUrl: 'http://x',
      token: 't',
      fetch: respond('<html>bad gateway</html>', { status: 502 }),
    });
    const e = await failure(client.listSites());
    expect([e.code, e.message]).toEqual(['INTERNAL', 'Unexpected response (HTTP 502).']);
  });

  test('a 2xx body that is not JSON is INTERNAL', async () => {
    const e = await failure(
      createAdminClient({ baseUrl: 'http://x', token: 't', fetch: respond('<html>') }).listSites(),
    );
    expect(e.message).toBe('The coordinator answered GET /v1/admin/sites with a body that is not JSON.');
  });

  test('times out with a NETWORK error', async () => {
    const hang: typeof fetch = (_url, init) =>
      new Promise((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error)),
      );
    const e = await failure(
      createAdminClient({ baseUrl: 'http://x', token: 't', fetch: hang, timeoutMs: 50 }).listSites(),
    );
    expect([e.code, e.message]).toEqual(['NETWORK', 'The coordinator at http://x did not answer within 0.05 s.']);
  });

  test('validates an invitation before sending it', async () => {
    const fetch = jest.fn(respond({}));
    const e = await failure(
      createAdminClient({ baseUrl: 'http://x', token: 't', fetch }).createInvitation({
        siteName: '-bad',
        ttlSeconds: 60,
      }),
    );
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.details).toEqual([{ path: 'siteName', message: expect.stringContaining('letters, digits') }]);
    expect(fetch).not.toHaveBeenCalled();
  });

  test('refuses an answer outside the contract (an empty revoke answer) as INTERNAL', async () => {
    const client = createAdminClient({
      baseUrl: 'http://x',
      token: 't',
      fetch: async () => new Response(null, { status: 204 }),
    });
    const e = await failure(client.revokeSite('s'));
    expect([e.code, e.message]).toEqual([
      'INTERNAL',
      'Unexpected response to POST /v1/admin/sites/s/revoke: Invalid input: expected object, received null.',
    ]);
  });
});
