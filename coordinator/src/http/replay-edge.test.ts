import { routes, signRequest } from '@twinfed/shared';
import { enrollTestSite, startTestCoordinator } from '../__tests__/harness';

/** Finding 7: a request signed exactly one window ago must never be accepted, however often it is replayed. */
describe('replay window without an edge', () => {
  test('a request at exactly T − W is refused every time; one just inside is accepted once and its replays refused', async () => {
    let now = Date.parse('2031-03-01T00:00:00Z');
    const c = await startTestCoordinator({ now: () => now });
    try {
      const site = await enrollTestSite(c, 'Edge');
      const W = 5 * 60 * 1000;
      const send = (headers: Record<string, string>) => fetch(c.url + routes.siteSelf, { headers });
      const sign = (at: number) =>
        signRequest({
          method: 'GET',
          path: routes.siteSelf,
          body: '',
          siteId: site.siteId,
          signSecretKey: site.identity.sign.secretKey,
          now: at,
        });

      const edge = sign(now - W);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await send(edge)).status);
      // The clock moves on by a millisecond at a time: the nonce must outlive the window at every instant.
      for (let i = 0; i < 5; i++) {
        now += 1;
        statuses.push((await send(edge)).status);
      }
      expect(statuses).toEqual(Array(10).fill(401));

      now += 10_000;
      const inside = sign(now - W + 1000);
      expect((await send(inside)).status).toBe(200);
      const replays: number[] = [];
      for (let i = 0; i < 1100; i += 100) {
        now += 100; // walks past the moment the signed timestamp leaves the window
        replays.push((await send(inside)).status);
      }
      expect(replays).toEqual(Array(replays.length).fill(401));
    } finally {
      await c.close();
    }
  });
});
