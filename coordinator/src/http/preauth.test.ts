import http from 'node:http';
import type { Socket } from 'node:net';
import { deserializeWeights, routes, signRequest, type CurrentRound } from '@twinfed/shared';
import { enrollTestSite, operator, startTestCoordinator, testPlan, type TestSite } from '../__tests__/harness';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;
const MiB = 1024 * 1024;

/** Every socket the coordinator accepts, to read how many bytes it took from each. */
function countBytesRead(c: Coordinator): { total(): number } {
  const sockets: Socket[] = [];
  c.server.on('connection', (s: Socket) => sockets.push(s));
  return { total: () => sockets.reduce((sum, s) => sum + s.bytesRead, 0) };
}

/**
 * Sends a body of `declared` bytes in 64 KiB chunks, as fast as the server takes them, and stops writing as soon
 * as an answer arrives. Resolves with the status (0 when the connection closed with no answer).
 */
function bigUpload(
  url: string,
  p: string,
  declared: number,
  headers: Record<string, string> = {},
): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve) => {
    let answered = false;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const req = http.request(
      url + p,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(declared), ...headers },
      },
      (res) => {
        answered = true;
        res.resume();
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
          req.destroy();
        });
      },
    );
    req.on('error', () => {
      if (!answered) resolve({ status: 0, connection: undefined });
    });
    let sent = 0;
    const pump = (): void => {
      while (!answered && sent < declared && !req.destroyed) {
        const n = Math.min(chunk.length, declared - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump);
      }
    };
    pump();
  });
}

/** `n` anonymous uploads that declare 1 MB and trickle one byte every 500 ms until released. */
function slowUploads(
  url: string,
  p: string,
  n: number,
  headers: () => Record<string, string> = () => ({}),
): { statuses: number[]; release(): void } {
  const statuses: number[] = [];
  const reqs: http.ClientRequest[] = [];
  const timers: NodeJS.Timeout[] = [];
  for (let i = 0; i < n; i++) {
    const req = http.request(
      url + p,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/octet-stream', 'content-length': '1000000', ...headers() },
      },
      (res) => {
        statuses.push(res.statusCode ?? 0);
        res.resume();
      },
    );
    req.on('error', () => undefined);
    req.write('x');
    timers.push(
      setInterval(() => {
        if (!req.destroyed) req.write('x');
      }, 500),
    );
    reqs.push(req);
  }
  return {
    statuses,
    release: () => {
      for (const t of timers) clearInterval(t);
      for (const r of reqs) r.destroy();
    },
  };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('authenticate before reading a body (findings 1 and 2)', () => {
  test('8 concurrent anonymous 60 MB uploads get 401 without the server reading their bodies', async () => {
    const c = await startTestCoordinator();
    try {
      const bytes = countBytesRead(c);
      const rssBefore = process.memoryUsage().rss;
      const results = await Promise.all(
        Array.from({ length: 8 }, () => bigUpload(c.url, routes.updates('f-any', 1), 60 * MiB)),
      );
      const rssAfter = process.memoryUsage().rss;
      expect(results.map((r) => r.status)).toEqual(Array(8).fill(401));
      expect(results.every((r) => r.connection === 'close')).toBe(true);
      // Without reading, the server takes at most socket buffers' worth from each connection.
      expect(bytes.total()).toBeLessThan(8 * 4 * MiB);
      console.log(
        `8 anonymous 60 MB uploads: server read ${(bytes.total() / MiB).toFixed(2)} MiB in all; test process RSS ${(rssBefore / MiB).toFixed(0)} → ${(rssAfter / MiB).toFixed(0)} MiB`,
      );
    } finally {
      await c.close();
    }
  });

  test('a signed upload declaring more than the route allows gets 413 and the connection is closed, not drained', async () => {
    const c = await startTestCoordinator();
    try {
      const site = await enrollTestSite(c, 'Big');
      const bytes = countBytesRead(c);
      const p = routes.updates('f-any', 1);
      const headers = signRequest({
        method: 'POST',
        path: p,
        body: new Uint8Array(0),
        siteId: site.siteId,
        signSecretKey: site.identity.sign.secretKey,
      });
      const r = await bigUpload(c.url, p, 100 * 1000 * 1000, headers);
      expect(r.status).toBe(413);
      expect(r.connection).toBe('close');
      expect(bytes.total()).toBeLessThan(4 * MiB);
    } finally {
      await c.close();
    }
  });

  test('anonymous JSON bodies to authenticated routes are refused before they are read', async () => {
    const c = await startTestCoordinator();
    try {
      const bytes = countBytesRead(c);
      const r = await bigUpload(c.url, routes.federations, 900 * 1024, { 'content-type': 'application/json' });
      expect(r.status).toBe(401);
      expect(bytes.total()).toBeLessThan(600 * 1024);
    } finally {
      await c.close();
    }
  });

  test('100 anonymous slow uploads (and 20 with forged signatures) in progress: two real sites complete a federation without a single 503', async () => {
    const c = await startTestCoordinator();
    const statuses: number[] = [];
    let attack: ReturnType<typeof slowUploads> | undefined;
    let forged: ReturnType<typeof slowUploads> | undefined;
    try {
      const sites: TestSite[] = [await enrollTestSite(c, 'North'), await enrollTestSite(c, 'South')];
      const created = await operator(c, 'POST', routes.federations, { plan: testPlan({ minSites: 2, rounds: 2 }) });
      const fid = ((await created.json()) as { id: string }).id;
      const p1 = routes.updates(fid, 1);
      attack = slowUploads(c.url, p1, 100);
      forged = slowUploads(c.url, p1, 20, () => ({
        'x-twinfed-site': sites[0]!.siteId,
        'x-twinfed-timestamp': String(Date.now()),
        'x-twinfed-nonce': Buffer.alloc(16, Math.floor(Math.random() * 256)).toString('base64'),
        'x-twinfed-signature': Buffer.alloc(64, 3).toString('base64'),
        'x-twinfed-content-sha256': 'ab'.repeat(32),
      }));
      await new Promise((r) => setTimeout(r, 1500)); // the attackers are connected and trickling
      const rss = process.memoryUsage().rss;
      console.log(
        `RSS (coordinator and test clients in one process) with 120 slow uploads held: ${(rss / MiB).toFixed(0)} MiB`,
      );

      const req = async (s: TestSite, method: string, p: string, body?: Uint8Array | object) => {
        const res = await s.request(method, p, body);
        statuses.push(res.status);
        return res;
      };
      for (const round of [1, 2]) {
        for (const s of sites) {
          const cur = await waitFor(`round ${round} for ${s.siteId}`, async () => {
            const v = (await (await req(s, 'GET', routes.currentRound(fid))).json()) as CurrentRound;
            return v.round?.round === round &&
              (v.round.state === 'open' || v.round.state === 'collecting') &&
              !v.submitted
              ? v
              : undefined;
          });
          const base = deserializeWeights(
            new Uint8Array(await (await req(s, 'GET', routes.modelWeights(cur.round!.baseVersionId))).arrayBuffer()),
          );
          const sealed = s.seal({
            federationId: fid,
            round,
            baseVersionId: cur.round!.baseVersionId,
            weights: { layout: base.layout, data: base.data.map((x) => x + 0.1) },
            numExamples: 10,
          });
          expect((await req(s, 'POST', routes.updates(fid, round), sealed)).status).toBe(201);
        }
      }
      const fed = await waitFor('federation completed', async () => {
        const f = (await (await operator(c, 'GET', routes.federation(fid))).json()) as { state: string };
        return f.state === 'completed' ? f : undefined;
      });
      expect(fed.state).toBe('completed');
      expect(statuses.filter((s) => s === 503)).toEqual([]);
      expect(attack.statuses.filter((s) => s === 503)).toEqual([]);
    } finally {
      attack?.release();
      forged?.release();
      await c.close();
    }
  });
});
