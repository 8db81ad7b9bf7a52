import net from 'node:net';
import { routes } from '@twinfed/shared';
import { EventStream } from '@twinfed/site-client';
import {
  enrollTestSite,
  json,
  operator,
  startTestCoordinator,
  testPlan,
  type TestSite,
} from '@twinfed/coordinator/__tests__/harness';
import {
  cleanupRedis,
  requireRedis,
  uniqueRedisPrefix,
  waitForPushSubscribers,
} from '@twinfed/coordinator/__tests__/redis';
import { startRoundRobinProxy } from '../support/round-robin-proxy';

type Coord = Awaited<ReturnType<typeof startTestCoordinator>>;

const push = async (c: Coord) => (await json<{ push: string }>(fetch(c.url + routes.readyz))).push;

/** Polls `/readyz` of `c` until it says `push: want` (at most 10 s). */
async function untilPush(c: Coord, want: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await push(c)) === want) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`/readyz never said push: ${want} (last: ${await push(c)})`);
}

/** The site's event stream to `c`, once connected. */
async function siteStream(c: { url: string }, site: TestSite): Promise<EventStream> {
  const stream = new EventStream({
    baseUrl: c.url,
    credentials: { siteId: site.siteId, signSecretKey: site.identity.sign.secretKey },
  });
  const connected = new Promise<void>((resolve) => stream.onConnection((s) => s.connected && resolve()));
  stream.start();
  await connected;
  return stream;
}

/** A port on 127.0.0.1 where nothing listens. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Replica A reaches Redis through a proxy the test cuts; replica B reaches it directly. */
describe('Redis lost and back while replicas run', () => {
  test('A keeps serving while Redis is away (push: degraded), then reconnects by itself and relays events again', async () => {
    const redisUrl = new URL(await requireRedis());
    const redis = { host: redisUrl.hostname, port: Number(redisUrl.port || 6379) };
    const proxy = await startRoundRobinProxy({ backends: [redis], connectTimeoutMs: 500 });
    const prefix = uniqueRedisPrefix('loss');
    const a = await startTestCoordinator({
      store: 'sqlite',
      redis: { url: `redis://127.0.0.1:${proxy.port}`, prefix },
      maxAuthFailuresPerMinute: 2,
    });
    const b = await startTestCoordinator({ replicaOf: a, redis: { url: redisUrl.href, prefix } });
    try {
      await waitForPushSubscribers(prefix, 2);
      expect(await push(a)).toBe('redis');

      // Redis goes away for A: its connections are cut and new ones go nowhere.
      proxy.setBackend(0, { host: '127.0.0.1', port: await closedPort() });
      proxy.cutAll();
      await untilPush(a, 'degraded');
      expect(await push(b)).toBe('redis');
      // A still serves everything, and still limits guessing (in its own memory meanwhile).
      const site = await enrollTestSite(a, 'Alpha');
      expect((await site.request('GET', routes.siteSelf)).status).toBe(200);
      expect((await operator(a, 'POST', routes.federations, { plan: testPlan({ minSites: 1 }) })).status).toBe(201);
      const guess = () =>
        fetch(a.url + routes.federations, { headers: { authorization: 'Bearer tfr_loss-guess-000000000000' } });
      expect([(await guess()).status, (await guess()).status, (await guess()).status]).toEqual([401, 401, 429]);

      // Redis is back: A reconnects and resubscribes without help, and events from B reach A's sites again.
      proxy.setBackend(0, redis);
      await untilPush(a, 'redis');
      await waitForPushSubscribers(prefix, 2);
      const stream = await siteStream(a, site);
      try {
        const opened = new Promise<{ federationId: string }>((resolve) => stream.on('round:opened', resolve));
        const fed = await json<{ id: string }>(
          operator(b, 'POST', routes.federations, { plan: testPlan({ minSites: 1, name: 'after the outage' }) }),
        );
        expect((await opened).federationId).toBe(fed.id);
      } finally {
        stream.close();
      }
    } finally {
      await b.close();
      await a.close();
      await proxy.close();
      await cleanupRedis(prefix);
    }
  }, 60_000);
});
