import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { routes, type PlanInput } from '@twinfed/shared';
import { heartPlan } from '../demo/heart-plan';
import type { Child } from '../support/processes';
import { adminOf, checkDatabase, spawnCoordinator, until } from './__tests__/coordinator-process';
import { freePort } from '../support/net';
import { startFaultProxy } from './__tests__/fault-proxy';
import { LightSite, lightPlan } from './__tests__/light-site';
import { enrollRealSite, events, journalUploads, runRealSite } from './__tests__/site-process';

const PLAN: PlanInput = lightPlan({ name: 'sigterm', rounds: 2, minSites: 2, roundDeadlineSeconds: 120 });

/** GET over a kept-alive connection of `agent`: the status (or the network error code). */
function get(agent: http.Agent, url: string): Promise<string> {
  return new Promise((resolve) => {
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
      })
      .on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** POSTs `body` in two halves with a pause between them; resolves with the status and body of the answer. */
function slowUpload(o: {
  url: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
  midway: () => Promise<void>;
}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      o.url + o.path,
      {
        method: 'POST',
        headers: { ...o.headers, 'content-type': 'application/octet-stream', 'content-length': String(o.body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    const half = Math.floor(o.body.length / 2);
    req.write(o.body.subarray(0, half));
    void o.midway().then(() => req.end(o.body.subarray(half)));
  });
}

describe('graceful shutdown on SIGTERM', () => {
  const dirs: string[] = [];
  const tmp = (name: string) => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), `twinfed-${name}-`));
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  test('the coordinator refuses new requests, finishes the upload in flight (and the round it closes), then closes the database', async () => {
    const dataDir = tmp('sigterm-coord');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let coordinator: Child = spawnCoordinator({ dataDir, port, logLevel: 'info' });
    await until(async () => (await fetch(`${url}/healthz`)).ok, { timeoutMs: 30_000, what: 'the coordinator' });
    const admin = adminOf({ dataDir, port });
    const sites: LightSite[] = [];
    for (const name of ['Alpha', 'Beta'])
      sites.push(
        await LightSite.enroll({
          index: sites.length,
          token: (await admin.createInvitation({ siteName: name })).token,
          url: () => url,
        }),
      );
    const fed = await admin.createFederation(PLAN);
    const [a, b] = sites as [LightSite, LightSite];
    expect(await a.step(fed.id)).toBe('uploaded');
    const round = (await admin.listRounds(fed.id))[0]!;
    await b.prepare(fed.id, round);
    const body = b.sealedFor(fed.id, 1)!;
    const p = routes.updates(fed.id, 1);
    // A client that keeps one connection busy with requests: it must not hold the shutdown up.
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    expect(await get(keepAlive, `${url}/readyz`)).toBe('200');
    const afterSigterm: string[] = [];
    let sigtermAt = 0;
    // Requests sent after the coordinator logged that it is stopping (not a guess at signal delivery time).
    let stoppingAt = 0;
    let hammering = true;
    const hammer = (async () => {
      while (hammering) {
        const sentAt = Date.now();
        const status = await get(keepAlive, `${url}/readyz`);
        if (stoppingAt > 0 && sentAt > stoppingAt) afterSigterm.push(status);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const answer = await slowUpload({
      url,
      path: p,
      body,
      headers: b.sign('POST', p, body),
      midway: async () => {
        await new Promise((r) => setTimeout(r, 100));
        coordinator.proc.kill('SIGTERM'); // half of the envelope is on the wire
        sigtermAt = Date.now();
        void coordinator.waitForLine(/coordinator stopping/, 60_000).then(
          () => (stoppingAt = Date.now()),
          () => undefined,
        );
        await new Promise((r) => setTimeout(r, 400));
      },
    });
    expect(answer.status).toBe(201);
    expect(await coordinator.exited).toBe(0);
    expect(Date.now() - sigtermAt).toBeLessThan(30_000);
    hammering = false;
    await hammer;
    keepAlive.destroy();
    // Nothing new was served after SIGTERM: 503 NOT_READY on a connection still open, then nobody listening.
    expect(afterSigterm.length).toBeGreaterThan(0);
    expect(afterSigterm.filter((st) => !['503', 'ECONNREFUSED', 'ECONNRESET'].includes(st))).toEqual([]);
    const ack = JSON.parse(answer.body) as { digest: string };
    await checkDatabase({
      dataDir,
      acks: [...a.acks, { federationId: fed.id, round: 1, siteId: b.siteId, digest: ack.digest, status: 'accepted' }],
    });

    // The upload closed round 1, which was published before the process exited; round 2 opens on the next start.
    coordinator = spawnCoordinator({ dataDir, port });
    await until(async () => (await admin.listRounds(fed.id)).length === 2, {
      timeoutMs: 30_000,
      what: 'round 2 after the restart',
    });
    const rounds = await admin.listRounds(fed.id);
    expect(rounds[0]).toMatchObject({ state: 'published', received: 2 });
    expect(rounds[1]).toMatchObject({ state: 'open' });
    coordinator.proc.kill('SIGTERM');
    expect(await coordinator.exited).toBe(0);
  }, 60_000);

  test('a site stopped with SIGTERM while uploading waits for the acknowledgement and journals it', async () => {
    const workDir = tmp('sigterm-site');
    const dataDir = path.join(workDir, 'coordinator');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const coordinator = spawnCoordinator({ dataDir, port });
    let release: () => void = () => undefined;
    let sawUpload: () => void = () => undefined;
    const uploading = new Promise<void>((r) => (sawUpload = r));
    const proxy = await startFaultProxy({
      target: { host: '127.0.0.1', port },
      seed: 3,
      hooks: {
        // Pause the upload on the wire until the test has sent SIGTERM.
        onRequest: (chunk) => {
          if (!/^POST \/v1\/federations\/[^/]+\/rounds\/1\/updates /.test(chunk)) return 'pass';
          sawUpload();
          return new Promise((resolve) => (release = () => resolve('pass')));
        },
      },
    });
    try {
      await until(async () => (await fetch(`${url}/healthz`)).ok, { timeoutMs: 30_000, what: 'the coordinator' });
      const admin = adminOf({ dataDir, port });
      const site = await enrollRealSite({
        name: 'Cleveland',
        center: 0,
        workDir,
        url,
        token: (await admin.createInvitation({ siteName: 'Cleveland' })).token,
      });
      const fed = await admin.createFederation({
        ...heartPlan({ rounds: 1, minSites: 1 }),
        strategy: { name: 'fedavg' },
        training: { steps: 20, batchSize: 4, optimizer: 'sgd', lr: 0.01 },
      });
      const child = runRealSite(site, { federationId: fed.id, url: proxy.url });
      await uploading;
      child.proc.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      release();
      expect(await child.exited).toBe(130); // interrupted, but only after the ack
      expect(events(child).some((e) => e.type === 'uploaded' && e.round === 1)).toBe(true);
      expect(journalUploads(site, fed.id).map((u) => u.round)).toEqual([1]);
      await until(async () => (await admin.getFederation(fed.id)).state === 'completed', {
        timeoutMs: 10_000,
        what: 'the federation',
      });
    } finally {
      await proxy.close();
      coordinator.proc.kill('SIGTERM');
      await coordinator.exited;
    }
  }, 60_000);
});
