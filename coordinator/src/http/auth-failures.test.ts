import { routes } from '@twinfed/shared';
import { PROTOCOL_VERSION, generateIdentity, publicPart } from '@twinfed/shared';
import { enrollTestSite, operator, startTestCoordinator } from '../__tests__/harness';

describe('failed authentications are rate limited per client address and credential', () => {
  test('after N 401s an address gets 429 RATE_LIMITED with Retry-After for every request; successes never count', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const c = await startTestCoordinator({ maxAuthFailuresPerMinute: 5, now: () => now });
    try {
      // Many successful requests first: they never count.
      for (let i = 0; i < 20; i++) expect((await operator(c, 'GET', routes.federations)).status).toBe(200);
      const guess = () =>
        fetch(c.url + routes.federations, { headers: { authorization: 'Bearer tfr_guessing-a-token-0000' } });
      for (let i = 0; i < 5; i++) expect((await guess()).status).toBe(401);
      const limited = await guess();
      expect(limited.status).toBe(429);
      expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Only failing attempts are refused: a valid token from the same address still gets in.
      expect((await operator(c, 'GET', routes.federations)).status).toBe(200);
      expect((await guess()).status).toBe(429);
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
    expect(
      loadConfig({ TWINFED_MAX_AUTH_FAILURES_PER_MINUTE: '0' }, { dataDir: '/tmp/x' }).maxAuthFailuresPerMinute,
    ).toBe(0);
  });
});

describe('behind a TLS-terminating reverse proxy (trust proxy)', () => {
  // Each client guesses its own tokens, so only the address budget is at stake (one token has its own budget).
  const guessFrom = (c: { url: string }, forwardedFor: string) =>
    fetch(c.url + routes.federations, {
      headers: {
        authorization: `Bearer tfr_guessing-${forwardedFor.replace(/\W/g, '')}-${Math.random().toString(36).slice(2)}`,
        'x-forwarded-for': forwardedFor,
      },
    });

  test('with the proxy trusted, X-Forwarded-For is the key: one client is limited, another behind the same proxy is not', async () => {
    const c = await startTestCoordinator({ maxAuthFailuresPerMinute: 2, trustProxy: ['127.0.0.1'] });
    try {
      expect((await guessFrom(c, '203.0.113.5')).status).toBe(401);
      expect((await guessFrom(c, '203.0.113.5')).status).toBe(401);
      expect((await guessFrom(c, '203.0.113.5')).status).toBe(429);
      expect((await guessFrom(c, '198.51.100.7')).status).toBe(401); // same TCP peer (the proxy), another client
      // The right-most untrusted address counts: a client cannot pick its key by prepending a forged address.
      expect((await guessFrom(c, '192.0.2.99, 203.0.113.5')).status).toBe(429);
    } finally {
      await c.close();
    }
  });

  test('without it (the default), X-Forwarded-For is ignored: the TCP peer is the key', async () => {
    const c = await startTestCoordinator({ maxAuthFailuresPerMinute: 2 });
    try {
      expect((await guessFrom(c, '203.0.113.5')).status).toBe(401);
      expect((await guessFrom(c, '198.51.100.7')).status).toBe(401);
      expect((await guessFrom(c, '192.0.2.1')).status).toBe(429); // a new forwarded address does not escape the limit
    } finally {
      await c.close();
    }
  });

  test('TWINFED_TRUST_PROXY takes addresses, CIDRs and loopback; anything else is CONFIG_INVALID', async () => {
    const { loadConfig } = await import('../config');
    expect(loadConfig({}, { dataDir: '/tmp/x' }).trustProxy).toBeUndefined();
    expect(
      loadConfig({ TWINFED_TRUST_PROXY: ' 10.0.0.5, 10.1.0.0/16,fd00::/8 ,loopback' }, { dataDir: '/tmp/x' })
        .trustProxy,
    ).toEqual(['10.0.0.5', '10.1.0.0/16', 'fd00::/8', 'loopback']);
    for (const bad of ['proxy.example.org', '10.0.0.0/33', '10.0.0.1/8/1', '*']) {
      expect(() => loadConfig({ TWINFED_TRUST_PROXY: bad }, { dataDir: '/tmp/x' })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
    }
  });
});

describe('the limiter cannot be turned against others (finding 3)', () => {
  const badEnroll = (c: { url: string }, token: string, forwardedFor?: string) =>
    fetch(c.url + routes.enroll, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
      body: JSON.stringify({ protocol: PROTOCOL_VERSION, token, ...publicPart(generateIdentity()) }),
    });

  test('30 bad enrollment tokens from one address: more enrollment attempts get 429, a signed site and the operator from that address do not', async () => {
    const c = await startTestCoordinator({ maxAuthFailuresPerMinute: 30 });
    try {
      const site = await enrollTestSite(c, 'Valid');
      for (let i = 0; i < 30; i++)
        expect((await badEnroll(c, `tfe_bad-guess-${String(i).padStart(4, '0')}-xxxxxxxx`)).status).toBe(401);
      const refused = await badEnroll(c, 'tfe_bad-guess-9999-xxxxxxxx');
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
      expect((await site.request('GET', routes.siteSelf)).status).toBe(200);
      expect((await operator(c, 'GET', routes.federations)).status).toBe(200);
      // A site whose signature fails (a forger using its id) does not lock the real site out.
      const forged = await fetch(c.url + routes.siteSelf, {
        headers: {
          'x-twinfed-site': site.siteId,
          'x-twinfed-timestamp': String(Date.now()),
          'x-twinfed-nonce': Buffer.alloc(16, 1).toString('base64'),
          'x-twinfed-signature': Buffer.alloc(64, 2).toString('base64'),
        },
      });
      expect([401, 429]).toContain(forged.status);
      expect((await site.request('GET', routes.siteSelf)).status).toBe(200);
    } finally {
      await c.close();
    }
  });

  test('one enrollment-token prefix tried from many addresses is refused after the limit', async () => {
    const c = await startTestCoordinator({ maxAuthFailuresPerMinute: 3, trustProxy: ['127.0.0.1'] });
    try {
      const token = 'tfe_targeted-token-guess';
      for (let i = 1; i <= 3; i++) expect((await badEnroll(c, `${token}-${i}`, `198.51.100.${i}`)).status).toBe(401);
      expect((await badEnroll(c, `${token}-4`, '198.51.100.4')).status).toBe(429);
    } finally {
      await c.close();
    }
  });

  test('IPv6 addresses share one budget per /64', async () => {
    const c = await startTestCoordinator({ maxAuthFailuresPerMinute: 4, trustProxy: ['127.0.0.1'] });
    try {
      for (let i = 1; i <= 4; i++)
        expect((await badEnroll(c, `tfe_v6-guess-${i}-aaaaaaaaaaaaaa`, `2001:db8:1:2::${i.toString(16)}`)).status).toBe(
          401,
        );
      expect((await badEnroll(c, 'tfe_v6-guess-5-aaaaaaaaaaaaaa', '2001:db8:1:2:ffff:ffff:ffff:fffe')).status).toBe(
        429,
      );
      expect((await badEnroll(c, 'tfe_v6-guess-6-aaaaaaaaaaaaaa', '2001:db8:1:3::1')).status).toBe(401); // another /64
    } finally {
      await c.close();
    }
  });
});

describe('the limiter derives its keys only when a request fails', () => {
  const { AuthFailureLimiter } = jest.requireActual<typeof import('./auth-failures')>('./auth-failures');
  /** A signed (or MAC'd) site request whose address and headers record each read. */
  const fakeRequest = (reads: string[], proof = 'x-twinfed-signature') =>
    ({
      path: '/v1/federations/f/rounds/current',
      get ip() {
        reads.push('ip');
        return '203.0.113.9';
      },
      socket: { remoteAddress: '203.0.113.9' },
      headers: { [proof]: 'sig', 'x-twinfed-site': 'site-1' },
      header(name: string) {
        reads.push(name);
        return name === proof ? 'sig' : name === 'x-twinfed-site' ? 'site-1' : undefined;
      },
    }) as unknown as import('express').Request;

  test.each(['x-twinfed-signature', 'x-twinfed-mac'])(
    'a request with %s passes the gate without its address being read or its credential keyed; a 401 counts against both',
    async (proof) => {
      const added: string[] = [];
      const limiter = new AuthFailureLimiter({
        maxFailures: 5,
        windowMs: 60_000,
        now: () => 0,
        counts: {
          add: async (key) => {
            added.push(key);
            return { failures: 1, resetInMs: 60_000 };
          },
          peek: async () => undefined,
        },
      });
      const reads: string[] = [];
      const req = fakeRequest(reads, proof);
      const next = jest.fn();
      await limiter.gate({ roles: ['site'] })(req, {} as import('express').Response, next);
      expect(next).toHaveBeenCalledWith();
      expect(reads).not.toContain('ip');
      const { TwinfedError } = await import('@twinfed/shared');
      const err = new TwinfedError('BAD_SIGNATURE');
      await limiter.countFailures()(err, req, {} as import('express').Response, next);
      expect(added.sort()).toEqual(['addr:203.0.113.9', 'site:site-1']);
    },
  );
});
