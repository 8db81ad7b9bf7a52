import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { deserializeWeights, routes, signRequest, type CurrentRound, silentLogger } from '@twinfed/shared';
import { loadConfig } from '../config';
import { startCoordinator, type RunningCoordinator } from '../main';
import {
  enrollTestSite,
  operator,
  signedRequests,
  startTestCoordinator,
  testPlan,
  type TestSite,
} from '../__tests__/harness';
import { MemoryStore } from '../store';
import { Presence } from './presence';

/** Sends a signed upload whose body arrives in two halves; the second half only when `release` is called. */
function heldUpload(
  url: string,
  site: TestSite,
  p: string,
  body: Uint8Array,
): { release: () => void; done: Promise<number> } {
  let release: () => void = () => undefined;
  const done = new Promise<number>((resolve, reject) => {
    const headers = {
      ...signRequest({
        method: 'POST',
        path: p,
        body,
        siteId: site.siteId,
        signSecretKey: site.identity.sign.secretKey,
      }),
      'content-type': 'application/octet-stream',
      'content-length': String(body.length),
    };
    const req = http.request(url + p, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.write(body.subarray(0, 10));
    release = () => req.end(body.subarray(10));
  });
  return { release, done };
}

/** A coordinator with the given upload limits, three enrolled sites and a federation that needs all three. */
function gateCoordinator(limits: {
  maxConcurrentUploads: number;
  maxQueuedUploads: number;
  maxQueuedUploadBytes?: number;
}) {
  const h = {} as { c: RunningCoordinator; sites: TestSite[]; fid: string; operatorToken: string };
  beforeAll(async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-gate-'));
    const config = loadConfig({}, { dataDir, port: 0, store: 'memory', logLevel: 'silent', ...limits });
    h.c = await startCoordinator(config, { logger: silentLogger() });
    h.operatorToken = fs.readFileSync(h.c.operatorTokenFile, 'utf8').trim();
    const op = { url: h.c.url, operatorToken: h.operatorToken };
    h.sites = [await enrollTestSite(op, 'A'), await enrollTestSite(op, 'B'), await enrollTestSite(op, 'C')];
    const res = await fetch(h.c.url + routes.federations, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ plan: testPlan({ minSites: 3, rounds: 1 }) }),
    });
    h.fid = ((await res.json()) as { id: string }).id;
  });
  afterAll(async () => h.c.close());

  /** Polls the in-flight gauge until `n` uploads are admitted (bounded: a broken gate fails, not hangs). */
  async function admitted(n: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const metrics = await (
        await fetch(`${h.c.url}/metrics`, { headers: { authorization: `Bearer ${h.operatorToken}` } })
      ).text();
      if (new RegExp(`^twinfed_uploads_in_flight ${n}$`, 'm').test(metrics)) return;
      if (Date.now() > deadline) throw new Error(`${n} uploads not admitted within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Each site's sealed round-1 update. */
  async function sealed(): Promise<Uint8Array[]> {
    const cur = (await (await h.sites[0]!.request('GET', routes.currentRound(h.fid))).json()) as CurrentRound;
    const base = deserializeWeights(
      new Uint8Array(
        await (await h.sites[0]!.request('GET', routes.modelWeights(cur.round!.baseVersionId))).arrayBuffer(),
      ),
    );
    return h.sites.map((s) =>
      s.seal({
        federationId: h.fid,
        round: 1,
        baseVersionId: cur.round!.baseVersionId,
        weights: { layout: base.layout, data: base.data.map(() => 0.5) },
        numExamples: 5,
      }),
    );
  }
  return { h, admitted, sealed };
}

describe('upload admission control by bytes', () => {
  // Room for 10 waiting uploads by count, but not for a second envelope's bytes.
  const { h, admitted, sealed } = gateCoordinator({
    maxConcurrentUploads: 1,
    maxQueuedUploads: 10,
    maxQueuedUploadBytes: 100,
  });

  test('an upload that would wait is refused when the declared bodies in the building exceed the byte bound', async () => {
    const [a, b] = await sealed();
    expect(a!.length).toBeGreaterThan(100);
    const p = routes.updates(h.fid, 1);
    const first = heldUpload(h.c.url, h.sites[0]!, p, a!); // a verification slot admits it whatever its size
    await admitted(1);
    const refused = await h.sites[1]!.request('POST', p, b);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('OVERLOADED');
    first.release();
    expect(await first.done).toBe(201);
    expect((await h.sites[1]!.request('POST', p, b)).status).toBe(201);
  });
});

describe('upload admission control', () => {
  const { h, admitted, sealed } = gateCoordinator({ maxConcurrentUploads: 1, maxQueuedUploads: 1 });

  test('beyond concurrency + queue an upload gets 503 OVERLOADED with Retry-After, and gets in once there is room', async () => {
    const [a, b, third] = await sealed();
    const p = routes.updates(h.fid, 1);
    const first = heldUpload(h.c.url, h.sites[0]!, p, a!);
    const second = heldUpload(h.c.url, h.sites[1]!, p, b!);
    await admitted(2); // both admitted: one "verifying", one queued
    const refused = await h.sites[2]!.request('POST', p, third);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('OVERLOADED');
    first.release();
    second.release();
    expect(await first.done).toBe(201);
    expect(await second.done).toBe(201);
    const again = await h.sites[2]!.request('POST', p, third);
    expect(again.status).toBe(201);
    const metrics = await (
      await fetch(`${h.c.url}/metrics`, { headers: { authorization: `Bearer ${h.operatorToken}` } })
    ).text();
    expect(metrics).toMatch(/^twinfed_uploads_total\{outcome="overloaded"\} 1$/m);
    expect(metrics).toMatch(/^twinfed_uploads_total\{outcome="accepted"\} 3$/m);
    expect(metrics).toMatch(/^twinfed_rounds_total\{outcome="published"\} 1$/m);
    expect(metrics).toMatch(/^twinfed_uploads_in_flight 0$/m);
  });
});

describe('Presence', () => {
  test('writes lastSeenAt at most once per interval per site, but knows the exact last time', async () => {
    const store = new MemoryStore();
    let now = Date.parse('2030-01-01T00:00:00Z');
    const touched: string[] = [];
    const spy = new Proxy(store, {
      get: (t, k) =>
        k === 'touchSite'
          ? async (id: string, at: string) => void touched.push(`${id}@${at}`)
          : (Reflect.get(t, k) as unknown),
    });
    const presence = new Presence({ store: spy, now: () => now, intervalMs: 5000 });
    await presence.seen('a');
    now += 1000;
    await presence.seen('a');
    await presence.seen('b');
    now += 4500;
    await presence.seen('a');
    expect(touched).toEqual(['a@2030-01-01T00:00:00.000Z', 'b@2030-01-01T00:00:01.000Z', 'a@2030-01-01T00:00:05.500Z']);
    expect(presence.lastSeen('a')).toBe('2030-01-01T00:00:05.500Z');
    expect(presence.lastSeen('b')).toBe('2030-01-01T00:00:01.000Z');
    expect(presence.lastSeen('c')).toBeNull();
  });

  test('a signed request records its site as seen through its nonce statement (no second write)', async () => {
    const c = await startTestCoordinator();
    try {
      const site = await enrollTestSite(c, 'Alpha');
      expect((await c.store.getSite(site.siteId))?.lastSeenAt).toBeNull();
      const touched: string[] = [];
      const touchSite = c.store.touchSite.bind(c.store);
      c.store.touchSite = async (id, at) => (touched.push(id), touchSite(id, at));
      const fed = (await (
        await operator(c, 'POST', routes.federations, { plan: testPlan({ minSites: 1 }) })
      ).json()) as {
        id: string;
      };
      const signed = signedRequests(c.url, site.siteId, site.identity.sign.secretKey);
      expect((await signed('GET', routes.currentRound(fed.id))).status).toBe(200);
      expect((await c.store.getSite(site.siteId))?.lastSeenAt).not.toBeNull();
      expect(touched).toEqual([]); // written by useNonce, not by a second statement
    } finally {
      await c.close();
    }
  });
});
