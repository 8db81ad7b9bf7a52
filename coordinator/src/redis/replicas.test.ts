import net from 'node:net';
import { io as connect, type Socket } from 'socket.io-client';
import { SITE_NAMESPACE, routes, signHandshake } from '@twinfed/shared';
import {
  sealedUpdate,
  enrollTestSite,
  json,
  operator,
  startTestCoordinator,
  testPlan,
  type TestSite,
} from '../__tests__/harness';
import { cleanupRedis, requireRedis, uniqueRedisPrefix, waitForPushSubscribers } from '../__tests__/redis';

type Coord = Awaited<ReturnType<typeof startTestCoordinator>>;

/** A site's socket to `c`, resolved once the signed handshake is accepted. */
function siteSocket(c: { url: string }, site: TestSite): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(c.url + SITE_NAMESPACE, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: (cb: (d: object) => void) =>
        cb(signHandshake({ siteId: site.siteId, signSecretKey: site.identity.sign.secretKey })),
    });
    s.once('connect', () => resolve(s));
    s.once('connect_error', (e) => reject(e));
  });
}

const ready = async (c: { url: string }) => json<{ status: string; push: string }>(fetch(c.url + routes.readyz));

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('replicas sharing one store and one Redis', () => {
  let url: string;
  let prefix: string;
  let a: Coord;
  let b: Coord;

  beforeAll(async () => {
    url = await requireRedis();
    prefix = uniqueRedisPrefix('replicas');
    a = await startTestCoordinator({ store: 'sqlite', redis: { url, prefix }, maxAuthFailuresPerMinute: 3 });
    b = await startTestCoordinator({ replicaOf: a, redis: { url, prefix }, maxAuthFailuresPerMinute: 3 });
    await waitForPushSubscribers(prefix, 2);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    if (prefix) await cleanupRedis(prefix);
  });

  test('/readyz of both says push: redis', async () => {
    expect(await ready(a)).toEqual({ status: 'ready', push: 'redis' });
    expect(await ready(b)).toEqual({ status: 'ready', push: 'redis' });
  });

  test('an event emitted on replica A reaches a site connected to replica B', async () => {
    const site = await enrollTestSite(a, 'Alpha');
    const socket = await siteSocket(b, site);
    try {
      const opened = new Promise<{ federationId: string; round: number }>((resolve) =>
        socket.once('round:opened', resolve),
      );
      const fed = await json<{ id: string }>(
        operator(a, 'POST', routes.federations, { plan: testPlan({ minSites: 1 }) }),
      );
      expect(await opened).toMatchObject({ federationId: fed.id, round: 1 });
    } finally {
      socket.disconnect();
    }
  });

  test('a site revoked at replica A is disconnected from replica B', async () => {
    const site = await enrollTestSite(a, 'Beta');
    const socket = await siteSocket(b, site);
    const gone = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    expect((await operator(a, 'POST', routes.revokeSite(site.siteId))).status).toBe(200);
    expect(await gone).toBe('io server disconnect');
  });

  test('failed authentications at replica A count at replica B', async () => {
    const guess = (c: Coord) =>
      fetch(c.url + routes.federations, { headers: { authorization: 'Bearer tfr_replica-guess-00000000' } });
    for (let i = 0; i < 3; i++) expect((await guess(a)).status).toBe(401);
    const limited = await guess(b);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await operator(b, 'GET', routes.federations)).status).toBe(200); // a valid token still gets in
  });
});

describe('replicas without Redis', () => {
  test('each counts its own failed authentications and says push: local', async () => {
    const a = await startTestCoordinator({ store: 'sqlite', maxAuthFailuresPerMinute: 3 });
    const b = await startTestCoordinator({ replicaOf: a, maxAuthFailuresPerMinute: 3 });
    try {
      expect(await ready(b)).toEqual({ status: 'ready', push: 'local' });
      const guess = (c: Coord) =>
        fetch(c.url + routes.federations, { headers: { authorization: 'Bearer tfr_local-guess-000000000' } });
      for (let i = 0; i < 3; i++) expect((await guess(a)).status).toBe(401);
      expect((await guess(a)).status).toBe(429);
      expect((await guess(b)).status).toBe(401);
    } finally {
      await b.close();
      await a.close();
    }
  });
});

describe('replicas sharing one SQLite file', () => {
  test('a site revoked at replica A is refused at once by replica B, which has served it', async () => {
    const a = await startTestCoordinator({ store: 'sqlite' });
    const b = await startTestCoordinator({ replicaOf: a });
    try {
      const site = await enrollTestSite(b, 'Gamma'); // its signed requests go to B
      for (let i = 0; i < 2; i++) expect((await site.request('GET', routes.siteSelf)).status).toBe(200);
      expect((await operator(a, 'POST', routes.revokeSite(site.siteId))).status).toBe(200);
      const refused = await site.request('GET', routes.siteSelf);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('SITE_REVOKED');
    } finally {
      await b.close();
      await a.close();
    }
  });
});

describe('Redis unreachable', () => {
  test('the coordinator starts and serves, /readyz says push: degraded, a round completes by polling, guessing is still limited', async () => {
    const c = await startTestCoordinator({
      redis: { url: `redis://127.0.0.1:${await closedPort()}`, prefix: uniqueRedisPrefix('down') },
      maxAuthFailuresPerMinute: 2,
    });
    try {
      expect(await ready(c)).toEqual({ status: 'ready', push: 'degraded' });
      const site = await enrollTestSite(c, 'Alpha');
      const fed = await json<{ id: string }>(
        operator(c, 'POST', routes.federations, { plan: testPlan({ minSites: 1, rounds: 1 }) }),
      );
      const { current: cur, sealed } = await sealedUpdate(site, fed.id);
      expect(cur.selected).toBe(true);
      expect((await site.request('POST', routes.updates(fed.id, 1), sealed)).status).toBe(201);
      const after = await json<{ latestVersionId: string; state: string }>(
        operator(c, 'GET', routes.federation(fed.id)),
      );
      expect(after.latestVersionId).toBe(`${fed.id}.v1`);
      // The failure counts fall back to this process's memory.
      const guess = () =>
        fetch(c.url + routes.federations, { headers: { authorization: 'Bearer tfr_down-guess-0000000000' } });
      expect((await guess()).status).toBe(401);
      expect((await guess()).status).toBe(401);
      expect((await guess()).status).toBe(429);
      expect(await ready(c)).toEqual({ status: 'ready', push: 'degraded' });
    } finally {
      await c.close();
    }
  });

  test('a bad Redis URL is CONFIG_INVALID', async () => {
    const { loadConfig } = await import('../config');
    expect(() => loadConfig({ TWINFED_REDIS_URL: 'http://127.0.0.1:6379' }, { dataDir: '/tmp/x' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => loadConfig({ TWINFED_REDIS_PREFIX: 'bad prefix*' }, { dataDir: '/tmp/x' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    const c = loadConfig(
      { TWINFED_REDIS_URL: 'redis://r.internal:6379', TWINFED_REDIS_PREFIX: 'cons-a:' },
      { dataDir: '/tmp/x' },
    );
    expect([c.redisUrl, c.redisPrefix]).toEqual(['redis://r.internal:6379', 'cons-a:']);
    expect(loadConfig({}, { dataDir: '/tmp/x' }).redisUrl).toBeUndefined();
  });
});
