import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { boundToAddress, siteLoopbackAddress } from './site-address';

const LAST = 254 ** 3 - 1;

describe('siteLoopbackAddress', () => {
  test('a loopback address with host parts 1–254, never 127.0.0.x, and another for every other site', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: LAST }), fc.integer({ min: 0, max: LAST }), (i, j) => {
        const a = siteLoopbackAddress(i);
        const [first, ...rest] = a.split('.').map(Number);
        expect(first).toBe(127);
        expect(rest).toHaveLength(3);
        for (const octet of rest) {
          expect(octet).toBeGreaterThanOrEqual(1);
          expect(octet).toBeLessThanOrEqual(254);
        }
        if (i !== j) expect(siteLoopbackAddress(j)).not.toBe(a);
      }),
    );
    expect(siteLoopbackAddress(0)).toBe('127.1.1.1');
    expect(siteLoopbackAddress(LAST)).toBe('127.254.254.254');
    expect(new Set(Array.from({ length: 3000 }, (_, i) => siteLoopbackAddress(i))).size).toBe(3000);
  });

  test('refuses an index it has no address for', () => {
    for (const i of [-1, 0.5, LAST + 1]) expect(() => siteLoopbackAddress(i)).toThrow('no loopback address');
  });
});

describe('boundToAddress', () => {
  let server: http.Server;
  let base: string;
  /** The TCP peer of each request and of each WebSocket upgrade, as the coordinator (no proxy) sees it. */
  const requests: string[] = [];
  const upgrades: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests.push(req.socket.remoteAddress ?? '');
      res.end('ok');
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: import('node:stream').Duplex) => {
      upgrades.push(req.socket.remoteAddress ?? '');
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  test("each site's HTTP requests and socket.io connection come from its own address", async () => {
    const sites = [0, 300];
    for (const i of sites) {
      const bound = boundToAddress(siteLoopbackAddress(i));
      try {
        const res = await bound.fetch()(`${base}/v1/hello`, { method: 'GET' });
        expect(await res.text()).toBe('ok');
        const socket = bound.connect(`${base}/site`, {
          path: '/socket.io',
          transports: ['websocket'],
          forceNew: true,
          reconnection: false,
        });
        await new Promise<void>((resolve) => socket.once('connect_error', () => resolve()));
        socket.close();
      } finally {
        await bound.close();
      }
    }
    expect(requests).toEqual(sites.map(siteLoopbackAddress));
    expect(upgrades).toEqual(sites.map(siteLoopbackAddress));
  });

  test('the fetch it wraps sees every request, with the options the site gave', async () => {
    const bound = boundToAddress(siteLoopbackAddress(7));
    const seen: string[] = [];
    try {
      const res = await bound.fetch((input, init) => {
        seen.push(`${init.method} ${input}`);
        return fetch(input, init);
      })(`${base}/v1/x`, { method: 'POST', body: 'b' });
      expect(res.status).toBe(200);
    } finally {
      await bound.close();
    }
    expect(seen).toEqual([`POST ${base}/v1/x`]);
    expect(requests.at(-1)).toBe('127.1.1.8');
  });
});
