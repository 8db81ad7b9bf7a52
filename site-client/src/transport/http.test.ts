import {
  HTTP_ERROR_CODES,
  clientBehaviour,
  generateIdentity,
  limits,
  routes,
  verifyRequest,
  type HttpErrorCode,
  type UploadAck,
} from '@twinfed/shared';
import { CoordinatorClient } from './coordinator-client';
import { HttpTransport, type FetchLike } from './http';

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Uint8Array | string | undefined;
}

/** A fetch that records requests and answers from a script (a Response, or an Error to throw). */
function scriptedFetch(script: Array<Response | Error | (() => Response | Error)>): FetchLike & { seen: Seen[] } {
  const seen: Seen[] = [];
  const f = (async (url: string, init: RequestInit) => {
    const body = init.body as Uint8Array | string | undefined;
    seen.push({ url, method: String(init.method), headers: init.headers as Record<string, string>, body });
    const next = script.shift();
    if (next === undefined) throw new Error('script exhausted');
    const step = typeof next === 'function' ? next() : next;
    if (step instanceof Error) throw step;
    return step;
  }) as FetchLike & { seen: Seen[] };
  f.seen = seen;
  return f;
}

const json = (status: number, value: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json', ...headers } });
const networkError = (): Error => Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });

const site = generateIdentity();
const credentials = { siteId: 'site-a', signSecretKey: site.sign.secretKey };

function transport(fetch: FetchLike, extra: Partial<ConstructorParameters<typeof HttpTransport>[0]> = {}) {
  const sleeps: number[] = [];
  const t = new HttpTransport({
    baseUrl: 'http://coord.test:8470/prefix/',
    credentials,
    fetch,
    retry: { retries: 3, baseMs: 100, maxMs: 5000 },
    random: () => 0.5,
    sleep: async (ms) => void sleeps.push(ms),
    ...extra,
  });
  return { t, sleeps };
}

describe('request signing', () => {
  test('every request carries auth headers that verify with verifyRequest over method, full path and body', async () => {
    const fetch = scriptedFetch([json(200, { ok: true }), json(200, { ok: true })]);
    const { t } = transport(fetch);
    await t.send({ method: 'POST', path: '/v1/models/v%201/evaluations', json: { n: 3, metrics: { accuracy: 0.5 } } });
    await t.send({ method: 'GET', path: routes.currentRound('fed 1') });
    for (const req of fetch.seen) {
      const url = new URL(req.url);
      expect(url.pathname.startsWith('/prefix/v1/')).toBe(true);
      const ok = verifyRequest({
        method: req.method,
        path: url.pathname + url.search,
        body: req.body ?? '',
        headers: req.headers,
        signPublicKey: site.sign.publicKey,
        now: Date.now(),
        windowMs: limits.requestWindowMs,
      });
      expect(ok.siteId).toBe('site-a');
    }
    expect(fetch.seen[0]!.headers['content-type']).toBe('application/json');
  });

  test('a signature does not verify for another body or another key', async () => {
    const fetch = scriptedFetch([json(200, {})]);
    const { t } = transport(fetch);
    await t.send({ method: 'POST', path: '/v1/x', binary: new Uint8Array([1, 2, 3]) });
    const req = fetch.seen[0]!;
    expect(req.headers['content-type']).toBe('application/octet-stream');
    const base = {
      method: 'POST',
      path: '/prefix/v1/x',
      headers: req.headers,
      now: Date.now(),
      windowMs: limits.requestWindowMs,
    };
    expect(() =>
      verifyRequest({ ...base, body: new Uint8Array([1, 2, 3]), signPublicKey: site.sign.publicKey }),
    ).not.toThrow();
    expect(() =>
      verifyRequest({ ...base, body: new Uint8Array([1, 2, 4]), signPublicKey: site.sign.publicKey }),
    ).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE' }));
    expect(() =>
      verifyRequest({ ...base, body: new Uint8Array([1, 2, 3]), signPublicKey: generateIdentity().sign.publicKey }),
    ).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE' }));
  });

  test('anonymous transports send no auth headers', async () => {
    const fetch = scriptedFetch([json(200, {})]);
    const t = new HttpTransport({ baseUrl: 'http://coord.test', fetch });
    await t.send({ method: 'GET', path: '/v1/coordinator' });
    expect(Object.keys(fetch.seen[0]!.headers).filter((h) => h.startsWith('x-twinfed'))).toEqual([]);
  });
});

describe('retries', () => {
  test('network errors are retried with growing jittered backoff, each attempt signed afresh', async () => {
    const fetch = scriptedFetch([networkError(), networkError(), json(200, { fine: 1 })]);
    const { t, sleeps } = transport(fetch);
    const res = await t.send({ method: 'GET', path: '/v1/sites/self' });
    expect(res.status).toBe(200);
    expect(fetch.seen).toHaveLength(3);
    expect(sleeps).toEqual([50, 100]); // random 0.5 × (100·2^0, 100·2^1)
    const nonces = new Set(fetch.seen.map((s) => s.headers['x-twinfed-nonce']));
    expect(nonces.size).toBe(3);
  });

  test('503 and 429 are retried after Retry-After (seconds and HTTP date) plus jitter of up to half of it, capped at maxMs', async () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    const fetch = scriptedFetch([
      json(503, { error: { code: 'OVERLOADED', message: 'busy' } }, { 'retry-after': '2' }),
      json(
        429,
        { error: { code: 'RATE_LIMITED', message: 'slow down' } },
        { 'retry-after': new Date(now + 3000).toUTCString() },
      ),
      json(429, {}, { 'retry-after': '3600' }),
      json(200, {}),
    ]);
    const { t, sleeps } = transport(fetch, { now: () => now });
    await t.send({ method: 'GET', path: '/v1/x' });
    expect(sleeps).toEqual([2500, 3750, 5000]); // random 0.5 → +25 %
    const spread = new Set<number>();
    for (const r of [0, 0.3, 0.99]) {
      const { t: t2, sleeps: s2 } = transport(scriptedFetch([json(503, {}, { 'retry-after': '2' }), json(200, {})]), {
        random: () => r,
      });
      await t2.send({ method: 'GET', path: '/v1/x' });
      expect(s2[0]).toBeGreaterThanOrEqual(2000);
      expect(s2[0]).toBeLessThan(3000);
      spread.add(s2[0]!);
    }
    expect(spread.size).toBe(3);
  });

  test('4xx is never retried and comes back as the TwinfedError the server sent', async () => {
    const fetch = scriptedFetch([
      json(409, { error: { code: 'ROUND_CLOSED', message: 'The round is not accepting updates.' } }),
    ]);
    const { t, sleeps } = transport(fetch);
    await expect(t.send({ method: 'POST', path: '/v1/x', binary: new Uint8Array(1) })).rejects.toMatchObject({
      name: 'TwinfedError',
      code: 'ROUND_CLOSED',
      status: 409,
    });
    expect(fetch.seen).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  // The error table decides, code by code: the transport repeats exactly the answers it makes retry-later.
  test.each(Object.keys(HTTP_ERROR_CODES) as HttpErrorCode[])(
    'an answer %s is repeated exactly when the table says retry-later',
    async (code) => {
      const fetch = scriptedFetch([
        json(HTTP_ERROR_CODES[code].status, { error: { code, message: 'x' } }),
        json(200, { ok: true }),
      ]);
      const { t } = transport(fetch);
      const sent = t.send({ method: 'GET', path: '/v1/x' });
      const repeated = clientBehaviour(code) === 'retry-later' || HTTP_ERROR_CODES[code].status === 408;
      if (repeated) await expect(sent).resolves.toMatchObject({ status: 200 });
      else await expect(sent).rejects.toMatchObject({ code, status: HTTP_ERROR_CODES[code].status });
      expect(fetch.seen).toHaveLength(repeated ? 2 : 1);
    },
  );

  test("a proxy's 502 or 504 (no twinfed body: the coordinator was not reached) is repeated like a connection failure", async () => {
    const fetch = scriptedFetch([
      new Response('bad gateway', { status: 502 }),
      new Response('timeout', { status: 504 }),
      json(200, { ok: true }),
    ]);
    await expect(transport(fetch).t.send({ method: 'GET', path: '/v1/x' })).resolves.toMatchObject({ status: 200 });
    expect(fetch.seen).toHaveLength(3);
  });

  test("a 408 (the server gave up reading the request: Node's request timeout has no twinfed body) is REQUEST_TIMEOUT and repeated like a connection failure", async () => {
    const fetch = scriptedFetch([new Response('', { status: 408 }), json(200, { ok: true })]);
    await expect(transport(fetch).t.send({ method: 'POST', path: '/v1/x', json: { a: 1 } })).resolves.toMatchObject({
      status: 200,
    });
    expect(fetch.seen).toHaveLength(2);
    const slow = scriptedFetch([0, 1, 2, 3].map(() => new Response('', { status: 408 })));
    await expect(transport(slow).t.send({ method: 'GET', path: '/v1/x' })).rejects.toMatchObject({
      code: 'REQUEST_TIMEOUT',
    });
    expect(slow.seen).toHaveLength(4);
  });

  test('a non-twinfed error body keeps a meaningful code', async () => {
    const fetch = scriptedFetch([
      new Response('<html>nope</html>', { status: 404 }),
      new Response('', { status: 500 }),
    ]);
    const { t } = transport(fetch);
    await expect(t.send({ method: 'GET', path: '/v1/x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(t.send({ method: 'GET', path: '/v1/x' })).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringContaining('HTTP 500'),
    });
  });

  test('after the last retry a network failure becomes NETWORK, and a persistent 503 its own code', async () => {
    const down = scriptedFetch([networkError(), networkError(), networkError(), networkError()]);
    await expect(transport(down).t.send({ method: 'GET', path: '/v1/x' })).rejects.toMatchObject({
      code: 'NETWORK',
      message: expect.stringContaining('ECONNREFUSED'),
    });
    expect(down.seen).toHaveLength(4);
    const busy = scriptedFetch([0, 1, 2, 3].map(() => json(503, { error: { code: 'OVERLOADED', message: 'busy' } })));
    await expect(transport(busy).t.send({ method: 'GET', path: '/v1/x' })).rejects.toMatchObject({
      code: 'OVERLOADED',
    });
    expect(busy.seen).toHaveLength(4);
  });

  test('a hanging request times out and is retried', async () => {
    let calls = 0;
    const fetch: FetchLike = (_url, init) => {
      calls += 1;
      if (calls === 1) {
        return new Promise((_resolve, reject) =>
          init.signal!.addEventListener('abort', () => reject(init.signal!.reason as Error)),
        );
      }
      return Promise.resolve(json(200, {}));
    };
    const { t, sleeps } = transport(fetch, { timeoutMs: 50 });
    await expect(t.send({ method: 'GET', path: '/v1/x' })).resolves.toMatchObject({ status: 200 });
    expect(calls).toBe(2);
    expect(sleeps).toHaveLength(1);
  });

  test('a cancelled request is not retried', async () => {
    const controller = new AbortController();
    const fetch = scriptedFetch([() => (controller.abort(), networkError()), json(200, {})]);
    const { t } = transport(fetch);
    await expect(t.send({ method: 'GET', path: '/v1/x', signal: controller.signal })).rejects.toMatchObject({
      code: 'NETWORK',
      message: 'The request was cancelled.',
    });
    expect(fetch.seen).toHaveLength(1);
  });
});

describe('CoordinatorClient', () => {
  test('uploads an envelope as octet-stream and validates the acknowledgement', async () => {
    const ack: UploadAck = {
      federationId: 'fed-1',
      round: 2,
      siteId: 'site-a',
      digest: 'ab'.repeat(32),
      status: 'accepted',
      receivedAt: new Date().toISOString(),
    };
    const fetch = scriptedFetch([json(200, ack), json(200, { federationId: 'fed-1' })]);
    const client = new CoordinatorClient({
      baseUrl: 'http://coord.test',
      credentials,
      fetch,
      retry: { retries: 0, baseMs: 1, maxMs: 1 },
    });
    await expect(
      client.uploadUpdate({ federationId: 'fed-1', round: 2, envelope: new Uint8Array([9, 9]) }),
    ).resolves.toEqual(ack);
    expect(fetch.seen[0]!.url).toBe('http://coord.test/v1/federations/fed-1/rounds/2/updates');
    expect(fetch.seen[0]!.body).toEqual(new Uint8Array([9, 9]));
    await expect(
      client.uploadUpdate({ federationId: 'fed-1', round: 2, envelope: new Uint8Array(1) }),
    ).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('does not match the protocol') });
  });

  test('downloads weights with their ETag', async () => {
    const fetch = scriptedFetch([
      new Response(new Uint8Array([1, 2, 3]), { status: 200, headers: { etag: '"abc123"' } }),
    ]);
    const client = new CoordinatorClient({ baseUrl: 'http://coord.test', credentials, fetch });
    const w = await client.modelWeights('v1');
    expect(Array.from(w.bytes)).toEqual([1, 2, 3]);
    expect(w.etag).toBe('abc123');
  });
});

describe('TLS failures', () => {
  test('a certificate the client does not trust is TLS_UNTRUSTED at once, never retried, and says to pass --ca', async () => {
    const untrusted = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('unable to verify the first certificate'), {
        code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      }),
    });
    const f = scriptedFetch([untrusted, json(200, {})]);
    const { t, sleeps } = transport(f);
    await expect(t.send({ method: 'GET', path: routes.coordinatorKeys })).rejects.toMatchObject({
      code: 'TLS_UNTRUSTED',
      message: expect.stringMatching(/pass --ca <pem>/),
    });
    expect(f.seen).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });
});
