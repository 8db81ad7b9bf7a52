import { countingFetch, routeLabel } from './request-counter';

describe('request counter of the load benchmark', () => {
  test('labels a request with its method and the route of the contract', () => {
    expect(routeLabel('get', 'http://127.0.0.1:1/v1/models/f-1.v2/weights')).toBe('GET /v1/models/:vid/weights');
    expect(routeLabel('GET', 'http://127.0.0.1:1/v1/federations/f-1/rounds/current')).toBe(
      'GET /v1/federations/:fid/rounds/current',
    );
    expect(routeLabel('POST', 'http://127.0.0.1:1/v1/federations/f-1/rounds/3/updates')).toBe(
      'POST /v1/federations/:fid/rounds/:round/updates',
    );
    expect(routeLabel('GET', 'http://127.0.0.1:1/v1/federations/f-1/rounds/current/download?have=f-1.v2')).toBe(
      'GET /v1/federations/:fid/rounds/current/download',
    );
    expect(routeLabel('GET', 'http://127.0.0.1:1/nowhere')).toBe('GET (not in the contract)');
  });

  test('counts every request it passes on, by label, and the failed attempts apart', async () => {
    const seen: string[] = [];
    const c = countingFetch(async (input) => {
      seen.push(input);
      if (input.endsWith('/evaluations')) return new Response('busy', { status: 503 });
      if (input.endsWith('/weights')) throw new TypeError('fetch failed');
      return new Response('ok');
    });
    await c.fetch('http://127.0.0.1:1/v1/models/a.v1', { method: 'GET' });
    await c.fetch('http://127.0.0.1:1/v1/models/a.v2', { method: 'GET' });
    await c.fetch('http://127.0.0.1:1/v1/models/a.v2/evaluations', { method: 'POST' });
    await expect(c.fetch('http://127.0.0.1:1/v1/models/a.v2/weights', { method: 'GET' })).rejects.toThrow(
      'fetch failed',
    );
    expect(seen).toHaveLength(4);
    expect(Object.fromEntries(c.counts)).toEqual({
      'GET /v1/models/:vid': 2,
      'GET /v1/models/:vid/weights': 1,
      'POST /v1/models/:vid/evaluations': 1,
    });
    expect(Object.fromEntries(c.failures)).toEqual({
      'POST /v1/models/:vid/evaluations 503': 1,
      'GET /v1/models/:vid/weights none': 1,
    });
  });

  test("adds up the 2xx answers' bytes by label, from their Content-Length", async () => {
    const c = countingFetch(async (input) => {
      if (input.endsWith('/evaluations'))
        return new Response('busy', { status: 503, headers: { 'content-length': '4' } });
      if (input.endsWith('/weights')) return new Response('raw'); // no Content-Length: not counted
      return new Response('{"a":1}', { headers: { 'content-length': '7' } });
    });
    await c.fetch('http://127.0.0.1:1/v1/models/a.v1', { method: 'GET' });
    await c.fetch('http://127.0.0.1:1/v1/models/a.v2', { method: 'GET' });
    await c.fetch('http://127.0.0.1:1/v1/models/a.v2/evaluations', { method: 'POST' });
    await c.fetch('http://127.0.0.1:1/v1/models/a.v2/weights', { method: 'GET' });
    expect(Object.fromEntries(c.bytes)).toEqual({ 'GET /v1/models/:vid': 14 });
  });
});
