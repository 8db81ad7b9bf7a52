import { Manager, io as connect } from 'socket.io-client';
import { SITE_NAMESPACE, generateIdentity, routes, signHandshake } from '@twinfed/shared';
import { enrollTestSite, operator, startTestCoordinator } from '../__tests__/harness';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;

/** What one socket.io connection attempt ended with. */
interface Attempt {
  connected: boolean;
  message?: string;
  data?: unknown;
}

/** One socket.io connection attempt to `nsp` (no reconnection); resolves on its first outcome, then disconnects. */
function attempt(
  url: string,
  nsp: string,
  opts: { auth?: object; headers?: Record<string, string> } = {},
): Promise<Attempt> {
  return new Promise((resolve) => {
    const s = connect(url + nsp, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      ...(opts.auth ? { auth: opts.auth } : {}),
      ...(opts.headers ? { extraHeaders: opts.headers } : {}),
    });
    const done = (a: Attempt) => {
      s.removeAllListeners();
      s.disconnect();
      resolve(a);
    };
    s.once('connect', () => done({ connected: true }));
    s.once('connect_error', (err) =>
      done({ connected: false, message: err.message, data: (err as { data?: unknown }).data }),
    );
    s.once('disconnect', (reason) => done({ connected: false, message: reason }));
  });
}

/** Opens an engine.io connection that never joins a namespace (an anonymous connection); null when refused. */
function openAnonymous(url: string, headers?: Record<string, string>): Promise<Manager | null> {
  const m = new Manager(url, {
    transports: ['websocket'],
    reconnection: false,
    autoConnect: false,
    ...(headers ? { extraHeaders: headers } : {}),
  });
  return new Promise((resolve) => {
    m.open((err) => resolve(err ? null : m));
  });
}

const closeAll = (managers: Array<Manager | null>) => {
  for (const m of managers) m?.engine?.close();
};

describe('socket.io: anonymous connections', () => {
  let c: Coordinator;
  beforeAll(async () => {
    c = await startTestCoordinator();
  });
  afterAll(async () => {
    await c.close();
  });

  test('the default namespace "/" accepts no connection (300 attempts)', async () => {
    let accepted = 0;
    for (let batch = 0; batch < 6; batch++) {
      const results = await Promise.all(Array.from({ length: 50 }, () => attempt(c.url, '/')));
      accepted += results.filter((r) => r.connected).length;
    }
    expect(accepted).toBe(0);
  });

  test('connections that have not authenticated are capped per client address (16 by default); authenticated sites do not count', async () => {
    const site = await enrollTestSite(c, 'Alpha');
    const siteSocket = connect(c.url + SITE_NAMESPACE, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: signHandshake({ siteId: site.siteId, signSecretKey: site.identity.sign.secretKey }),
    });
    await new Promise<void>((resolve, reject) => {
      siteSocket.once('connect', () => resolve());
      siteSocket.once('connect_error', reject);
    });
    const held: Array<Manager | null> = [];
    try {
      for (let i = 0; i < 300; i++) held.push(await openAnonymous(c.url));
      expect(held.filter((m) => m !== null).length).toBe(16);
      expect(siteSocket.connected).toBe(true); // the site, connected from the same address, is not among the 16
      // Once they are gone the address may open new ones.
      closeAll(held);
      held.length = 0;
      let reopened: Manager | null = null;
      while (reopened === null) reopened = await openAnonymous(c.url); // the server sees the closes shortly after the client
      held.push(reopened);
    } finally {
      closeAll(held);
      siteSocket.disconnect();
    }
  });
});

describe('socket.io: anonymous cap behind a trusted proxy', () => {
  test('the cap counts the forwarded client address, as HTTP does', async () => {
    const c = await startTestCoordinator({ trustProxy: ['127.0.0.1'] });
    const held: Array<Manager | null> = [];
    try {
      for (let i = 0; i < 20; i++) held.push(await openAnonymous(c.url, { 'x-forwarded-for': '203.0.113.5' }));
      expect(held.filter((m) => m !== null).length).toBe(16);
      const other = await openAnonymous(c.url, { 'x-forwarded-for': '198.51.100.7' }); // another client behind the same proxy
      held.push(other);
      expect(other).not.toBeNull();
    } finally {
      closeAll(held);
      await c.close();
    }
  });
});

describe('socket.io: handshake failures', () => {
  test('are answered alike whatever the cause: unknown site, revoked, bad signature, stale, replayed, malformed', async () => {
    const c = await startTestCoordinator();
    try {
      const known = await enrollTestSite(c, 'Alpha');
      const revoked = await enrollTestSite(c, 'Beta');
      expect((await operator(c, 'POST', routes.revokeSite(revoked.siteId))).status).toBe(200);
      const stranger = generateIdentity();
      const replayed = signHandshake({ siteId: known.siteId, signSecretKey: known.identity.sign.secretKey });
      expect(await attempt(c.url, SITE_NAMESPACE, { auth: replayed })).toEqual({ connected: true });
      const causes: Record<string, object> = {
        unknownSite: signHandshake({ siteId: 'site-nobody-000000', signSecretKey: stranger.sign.secretKey }),
        badSignature: signHandshake({ siteId: known.siteId, signSecretKey: stranger.sign.secretKey }),
        stale: signHandshake({
          siteId: known.siteId,
          signSecretKey: known.identity.sign.secretKey,
          now: Date.now() - 3_600_000,
        }),
        revoked: signHandshake({ siteId: revoked.siteId, signSecretKey: revoked.identity.sign.secretKey }),
        replayed,
        malformed: { siteId: known.siteId },
      };
      const answers: Record<string, Attempt> = {};
      for (const [cause, auth] of Object.entries(causes))
        answers[cause] = await attempt(c.url, SITE_NAMESPACE, { auth });
      for (const a of Object.values(answers)) expect(a.connected).toBe(false);
      const first = answers.unknownSite;
      expect(first).toEqual({ connected: false, message: 'UNAUTHENTICATED', data: { code: 'UNAUTHENTICATED' } });
      for (const a of Object.values(answers)) expect(a).toEqual(first);
    } finally {
      await c.close();
    }
  });

  test('count in the same failed-authentication accounting as HTTP, in both directions', async () => {
    const c = await startTestCoordinator({ maxAuthFailuresPerMinute: 3 });
    try {
      const stranger = generateIdentity();
      const badHandshake = () =>
        attempt(c.url, SITE_NAMESPACE, {
          auth: signHandshake({ siteId: 'site-nobody-000000', signSecretKey: stranger.sign.secretKey }),
        });
      const guess = () =>
        fetch(c.url + routes.federations, { headers: { authorization: 'Bearer tfr_guessing-a-token-0000' } });
      for (let i = 0; i < 3; i++) expect((await badHandshake()).connected).toBe(false);
      expect((await guess()).status).toBe(429); // the three socket failures count for HTTP
    } finally {
      await c.close();
    }
    const d = await startTestCoordinator({ maxAuthFailuresPerMinute: 3 });
    try {
      const guess = () =>
        fetch(d.url + routes.federations, { headers: { authorization: 'Bearer tfr_guessing-a-token-0000' } });
      for (let i = 0; i < 3; i++) expect((await guess()).status).toBe(401);
      const stranger = generateIdentity();
      const refused = await attempt(d.url, SITE_NAMESPACE, {
        auth: signHandshake({ siteId: 'site-nobody-000000', signSecretKey: stranger.sign.secretKey }),
      });
      expect(refused).toEqual({ connected: false, message: 'RATE_LIMITED', data: { code: 'RATE_LIMITED' } });
    } finally {
      await d.close();
    }
  });
});

/**
 * Found by the fuzz suite (fuzz.test.ts): long-polling was served though no twinfed client uses it. One plain GET
 * opened an engine.io session that held an anonymous slot of its address for up to 50 s (ping timeout, then a 30 s
 * close timer that also kept a stopped coordinator's process alive): 16 GETs locked the address's sites out.
 */
describe('socket.io: transports', () => {
  test('only WebSocket is served: a long-polling handshake opens no session, and 20 of them leave room for a site', async () => {
    const c = await startTestCoordinator();
    try {
      const site = await enrollTestSite(c, 'Alpha');
      const polls = await Promise.all(
        Array.from({ length: 20 }, () => fetch(`${c.url}/socket.io/?EIO=4&transport=polling`)),
      );
      const auth = signHandshake({ siteId: site.siteId, signSecretKey: site.identity.sign.secretKey });
      expect(await attempt(c.url, SITE_NAMESPACE, { auth })).toEqual({ connected: true });
      expect(polls.map((r) => r.status)).toEqual(Array(20).fill(400));
    } finally {
      await c.close();
    }
  });
});

describe('socket.io: configuration', () => {
  test('the anonymous cap defaults to 16 per address and is set with TWINFED_MAX_ANONYMOUS_SOCKETS_PER_ADDRESS (at least 1)', async () => {
    const { loadConfig } = await import('../config');
    expect(loadConfig({}, { dataDir: '/tmp/x' }).maxAnonymousSocketsPerAddress).toBe(16);
    expect(
      loadConfig({ TWINFED_MAX_ANONYMOUS_SOCKETS_PER_ADDRESS: '64' }, { dataDir: '/tmp/x' })
        .maxAnonymousSocketsPerAddress,
    ).toBe(64);
    expect(() => loadConfig({ TWINFED_MAX_ANONYMOUS_SOCKETS_PER_ADDRESS: '0' }, { dataDir: '/tmp/x' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
