import { countingFetch, routeLabel } from './request-counter';

describe('request counter of the load benchmark', () => {
  it('labels a request with its method and the route of the contract', () => {
    expect(routeLabel('get', 'http://127.0.0.1:1/v1/models/f-1.v2/weights')).toBe('GET /v1/models/:vid/weights');
    expect(routeLabel('GET', 'http://127.0.0.1:1/v1/federations/f-1/rounds/current')).toBe(
      'GET /v1/federations/:fid/rounds/current',
    );
    expect(routeLabel('POST', 'http://127.0.0.1:1/v1/federations/f-1/rounds/3/updates')).toBe(
      'POST /v1/federations/:fid/rounds/:round/updates',
    );
    expect(routeLabel('GET', 'http://127.0.0.1:1/nowhere')).toBe('GET (not in the contract)');
  });

  it('counts every request it passes on, by label', async () => {
    const seen: string[] = [];
    const c = countingFetch(async (input) => {
      seen.push(input);
      return new Response('ok');
    });
    await c.fetch('http://127.0.0.1:1/v1/models/a.v1', { method: 'GET' });
    await c.fetch('http://127.0.0.1:1/v1/models/a.v2', { method: 'GET' });
    await c.fetch('http://127.0.0.1:1/v1/models/a.v2/evaluations', { method: 'POST' });
    expect(seen).toHaveLength(3);
    expect(Object.fromEntries(c.counts)).toEqual({
      'GET /v1/models/:vid': 2,
      'POST /v1/models/:vid/evaluations': 1,
    });
  });
});
