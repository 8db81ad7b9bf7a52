import { routes } from '@twinfed/shared';
import { operator, startTestCoordinator } from '../testing/harness';

describe('failed authentications are rate limited per client address', () => {
  test('after N 401s an address gets 429 RATE_LIMITED with Retry-After for every request; successes never count', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const c = await startTestCoordinator({ maxAuthFailuresPerMinute: 5, now: () => now });
    try {
      // Many successful requests first: they never count.
      for (let i = 0; i < 20; i++) expect((await operator(c, 'GET', routes.federations)).status).toBe(200);
      const guess = () => fetch(c.url + routes.federations, { headers: { authorization: 'Bearer tfr_guessing-a-token-0000' } });
      for (let i = 0; i < 5; i++) expect((await guess()).status).toBe(401);
      const limited = await guess();
      expect(limited.status).toBe(429);
      expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // The whole address waits, even with a valid token, until the window ends.
      expect((await operator(c, 'GET', routes.federations)).status).toBe(429);
      expect((await fetch(c.url + routes.healthz)).status).toBe(200); // probes are never refused
      now += 61_000;
      expect((await operator(c, 'GET', routes.federations)).status).toBe(200);
      expect((await guess()).status).toBe(401);
    } finally {
      await c.close();
    }
  });

  test('the default configuration limits (30 a minute); 0 turns it off', async () => {
    const { loadConfig } = await import('../config');
    expect(loadConfig({}, { dataDir: '/tmp/x' }).maxAuthFailuresPerMinute).toBe(30);
    expect(loadConfig({ TWINFED_MAX_AUTH_FAILURES_PER_MINUTE: '0' }, { dataDir: '/tmp/x' }).maxAuthFailuresPerMinute).toBe(0);
  });
});
