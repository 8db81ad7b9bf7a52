import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { routes, signRequest, silentLogger } from '@twinfed/shared';
import { SERVER_LIMIT_DEFAULTS, loadConfig, type CoordinatorConfig } from '../config';
import { startCoordinator, type RunningCoordinator } from '../main';
import { enrollTestSite, type TestSite } from '../__tests__/harness';

async function start(overrides: Partial<CoordinatorConfig>): Promise<{ c: RunningCoordinator; operatorToken: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-limits-'));
  const c = await startCoordinator(
    loadConfig(
      {},
      { dataDir, port: 0, store: 'memory', logLevel: 'silent', maxAuthFailuresPerMinute: 0, ...overrides },
    ),
    { logger: silentLogger() },
  );
  return { c, operatorToken: fs.readFileSync(c.operatorTokenFile, 'utf8').trim() };
}

/** A signed request whose body (of `declared` bytes) is sent one byte per `everyMs` until the answer comes. */
function trickle(
  url: string,
  site: TestSite,
  p: string,
  declared: number,
  everyMs: number,
): Promise<{ status: number; code: string; connection: string | undefined }> {
  const body = new Uint8Array(declared);
  const headers = {
    ...signRequest({ method: 'POST', path: p, body, siteId: site.siteId, signSecretKey: site.identity.sign.secretKey }),
    'content-type': 'application/octet-stream',
    'content-length': String(declared),
  };
  return new Promise((resolve, reject) => {
    const req = http.request(url + p, { method: 'POST', headers, agent: false }, (res) => {
      clearInterval(timer);
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString('utf8')));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          code: (JSON.parse(text) as { error: { code: string } }).error.code,
          connection: res.headers.connection,
        });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.write(body.subarray(0, 1));
    const timer = setInterval(() => {
      if (!req.destroyed) req.write(body.subarray(0, 1));
    }, everyMs);
  });
}

describe('server timeouts and per-caller limits', () => {
  test('timeouts are set from the configuration, with documented defaults and environment names', async () => {
    const d = loadConfig({}, { dataDir: '/tmp/x' });
    expect({
      h: d.headersTimeoutMs,
      r: d.requestTimeoutMs,
      k: d.keepAliveTimeoutMs,
      m: d.minBodyBytesPerSecond,
      g: d.bodyRateGraceMs,
    }).toEqual({
      h: SERVER_LIMIT_DEFAULTS.headersTimeoutMs,
      r: SERVER_LIMIT_DEFAULTS.requestTimeoutMs,
      k: SERVER_LIMIT_DEFAULTS.keepAliveTimeoutMs,
      m: SERVER_LIMIT_DEFAULTS.minBodyBytesPerSecond,
      g: SERVER_LIMIT_DEFAULTS.bodyRateGraceMs,
    });
    const e = loadConfig(
      {
        TWINFED_HEADERS_TIMEOUT_MS: '7000',
        TWINFED_REQUEST_TIMEOUT_MS: '9000',
        TWINFED_KEEP_ALIVE_TIMEOUT_MS: '1000',
        TWINFED_MIN_BODY_BYTES_PER_SECOND: '10',
        TWINFED_BODY_RATE_GRACE_MS: '50',
        TWINFED_MAX_REQUESTS_PER_PRINCIPAL: '3',
        TWINFED_MAX_ANONYMOUS_REQUESTS_PER_ADDRESS: '4',
      },
      { dataDir: '/tmp/x' },
    );
    expect([
      e.headersTimeoutMs,
      e.requestTimeoutMs,
      e.keepAliveTimeoutMs,
      e.minBodyBytesPerSecond,
      e.bodyRateGraceMs,
      e.maxRequestsPerPrincipal,
      e.maxAnonymousRequestsPerAddress,
    ]).toEqual([7000, 9000, 1000, 10, 50, 3, 4]);
    expect(() =>
      loadConfig({ TWINFED_HEADERS_TIMEOUT_MS: '60000', TWINFED_REQUEST_TIMEOUT_MS: '30000' }, { dataDir: '/tmp/x' }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    const { c } = await start({ headersTimeoutMs: 7000, requestTimeoutMs: 9000, keepAliveTimeoutMs: 1000 });
    try {
      expect([c.server.headersTimeout, c.server.requestTimeout, c.server.keepAliveTimeout]).toEqual([7000, 9000, 1000]);
    } finally {
      await c.close();
    }
  });

  test("by default an idle connection outlives the time between a site's rounds, and clients are told so", async () => {
    // A site's requests of one round come 8–15 s after its last of the round before: with a shorter idle timeout
    // nearly every request opened a new TCP connection, and a client could reuse one the server was closing.
    // Clients (undici, node's agent) keep a connection no longer than the advertised timeout.
    const { c } = await start({});
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const get = () =>
        new Promise<{ keepAlive: string | undefined; port: number | undefined }>((resolve, reject) => {
          http
            .get(c.url + '/healthz', { agent }, (res) => {
              const port = res.socket.localPort;
              res.resume();
              const keepAlive = res.headers['keep-alive'];
              res.on('end', () =>
                resolve({ keepAlive: Array.isArray(keepAlive) ? keepAlive.join(', ') : keepAlive, port }),
              );
            })
            .on('error', reject);
        });
      const first = await get();
      expect(first.keepAlive).toBe(`timeout=${SERVER_LIMIT_DEFAULTS.keepAliveTimeoutMs / 1000}`);
      expect(SERVER_LIMIT_DEFAULTS.keepAliveTimeoutMs).toBeGreaterThanOrEqual(61_000); // above common proxies' 60 s
      expect((await get()).port).toBe(first.port); // the same connection
    } finally {
      agent.destroy();
      await c.close();
    }
  });

  test('a body that trickles below the minimum rate after the grace period is cut with 408 and the connection closed', async () => {
    const { c, operatorToken } = await start({ minBodyBytesPerSecond: 1000, bodyRateGraceMs: 200 });
    try {
      const site = await enrollTestSite({ url: c.url, operatorToken }, 'Slow');
      const r = await trickle(c.url, site, routes.updates('f-any', 1), 100_000, 100);
      expect(r).toEqual({ status: 408, code: 'REQUEST_TIMEOUT', connection: 'close' });
    } finally {
      await c.close();
    }
  });

  test('one site may hold at most maxRequestsPerPrincipal requests; other sites are not affected', async () => {
    const { c, operatorToken } = await start({ maxRequestsPerPrincipal: 2, minBodyBytesPerSecond: 0 });
    const held: http.ClientRequest[] = [];
    try {
      const [a, b] = [
        await enrollTestSite({ url: c.url, operatorToken }, 'A'),
        await enrollTestSite({ url: c.url, operatorToken }, 'B'),
      ];
      const p = routes.populationReports;
      for (let i = 0; i < 2; i++) {
        const body = Buffer.from('{"x":1}');
        const headers = {
          ...signRequest({ method: 'POST', path: p, body, siteId: a.siteId, signSecretKey: a.identity.sign.secretKey }),
          'content-type': 'application/json',
          'content-length': String(body.length),
        };
        const req = http.request(c.url + p, { method: 'POST', headers, agent: false });
        req.on('error', () => undefined);
        req.write(body.subarray(0, 1)); // admitted, its body unfinished
        held.push(req);
      }
      const deadline = Date.now() + 20_000;
      let third = await a.request('GET', routes.siteSelf);
      while (third.status !== 429 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        third = await a.request('GET', routes.siteSelf);
      }
      expect(third.status).toBe(429);
      expect(((await third.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
      expect((await b.request('GET', routes.siteSelf)).status).toBe(200);
      for (const r of held) r.destroy();
      const after = Date.now() + 20_000;
      let again = await a.request('GET', routes.siteSelf);
      while (again.status !== 200 && Date.now() < after) {
        await new Promise((r) => setTimeout(r, 20));
        again = await a.request('GET', routes.siteSelf);
      }
      expect(again.status).toBe(200);
    } finally {
      for (const r of held) r.destroy();
      await c.close();
    }
  });
});
