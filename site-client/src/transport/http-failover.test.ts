import { generateIdentity } from '@twinfed/shared';
import { CoordinatorEndpoints } from './endpoints';
import { HttpTransport, type FetchLike } from './http';

const credentials = { siteId: 'site-a', signSecretKey: generateIdentity().sign.secretKey };
const refused = (): Error => Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
const reset = (): Error => Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });
const ok = (): Response => new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });

/** A fetch whose answer depends on the host asked: `down` hosts fail with `failure()`, others answer `answer()`. */
function hosts(down: Set<string>, failure: () => Error = refused, answer: () => Response = ok) {
  const asked: string[] = [];
  const fetch: FetchLike = async (url) => {
    const host = new URL(url).host;
    asked.push(host);
    if (down.has(host)) throw failure();
    return answer();
  };
  return { fetch, asked };
}

function transport(baseUrl: ConstructorParameters<typeof HttpTransport>[0]['baseUrl'], fetch: FetchLike) {
  const sleeps: number[] = [];
  const t = new HttpTransport({
    baseUrl,
    credentials,
    fetch,
    retry: { retries: 3, baseMs: 100, maxMs: 5000 },
    random: () => 0.5,
    sleep: async (ms) => void sleeps.push(ms),
  });
  return { t, sleeps };
}

describe('fail-over between coordinator URLs', () => {
  test('a refused connection moves to the next URL at once (no backoff), which is then kept while it works', async () => {
    const { fetch, asked } = hosts(new Set(['a.test']));
    const { t, sleeps } = transport(['http://a.test', 'http://b.test/'], fetch);
    expect(t.baseUrl).toBe('http://a.test');
    await t.send({ method: 'GET', path: '/v1/sites/self' });
    await t.send({ method: 'GET', path: '/v1/sites/self' });
    expect(asked).toEqual(['a.test', 'b.test', 'b.test']);
    expect(sleeps).toEqual([]);
    expect(t.baseUrl).toBe('http://b.test');
  });

  test('a reset connection fails over too; the path prefix of each URL is kept and signed', async () => {
    const seen: string[] = [];
    const fetch: FetchLike = async (url, init) => {
      seen.push(`${url} ${(init.headers as Record<string, string>)['x-twinfed-site']}`);
      if (url.startsWith('http://a.test')) throw reset();
      return ok();
    };
    const { t } = transport(['http://a.test/one', 'http://b.test/two'], fetch);
    await t.send({ method: 'GET', path: '/v1/x' });
    expect(seen).toEqual(['http://a.test/one/v1/x site-a', 'http://b.test/two/v1/x site-a']);
  });

  test('an HTTP answer, even 503 or 500, never fails over', async () => {
    for (const status of [503, 500, 404]) {
      const { fetch, asked } = hosts(new Set(), refused, () =>
        asked.length === 1 ? new Response('{}', { status }) : ok(),
      );
      const { t } = transport(['http://a.test', 'http://b.test'], fetch);
      await t.send({ method: 'GET', path: '/v1/x' }).catch(() => undefined);
      expect(new Set(asked)).toEqual(new Set(['a.test']));
      expect(t.baseUrl).toBe('http://a.test');
    }
  });

  test('when every URL refuses, each round over the list backs off as one attempt, then NETWORK names the last URL', async () => {
    const { fetch, asked } = hosts(new Set(['a.test', 'b.test']));
    const { t, sleeps } = transport(['http://a.test', 'http://b.test'], fetch);
    await expect(t.send({ method: 'GET', path: '/v1/x' })).rejects.toMatchObject({ code: 'NETWORK' });
    expect(asked).toHaveLength(8); // (1 + 3 retries) × 2 URLs
    expect(sleeps).toHaveLength(3);
  });

  test('transports sharing one endpoint list follow one fail-over', async () => {
    const endpoints = new CoordinatorEndpoints(['http://a.test', 'http://b.test']);
    const changes: string[] = [];
    endpoints.onChange((c) => changes.push(`${c.from} -> ${c.to}`));
    const down = new Set(['a.test']);
    const first = transport(endpoints, hosts(down).fetch).t;
    const other = hosts(down);
    const second = transport(endpoints, other.fetch).t;
    await first.send({ method: 'GET', path: '/v1/x' });
    await second.send({ method: 'GET', path: '/v1/x' });
    expect(other.asked).toEqual(['b.test']);
    expect(changes).toEqual(['http://a.test -> http://b.test']);
  });

  test('a failure of a URL another transport already left does not move the list again', () => {
    const endpoints = new CoordinatorEndpoints(['http://a.test', 'http://b.test', 'http://c.test']);
    expect(endpoints.failed('http://a.test')).toBe('http://b.test');
    expect(endpoints.failed('http://a.test/')).toBe('http://b.test');
    expect(endpoints.failed('http://b.test')).toBe('http://c.test');
    expect(endpoints.failed('http://c.test')).toBe('http://a.test');
    expect(new CoordinatorEndpoints('http://solo.test').failed('http://solo.test')).toBe('http://solo.test');
  });
});
