import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { routes, createLogger } from '@twinfed/shared';
import { loadConfig } from '../config';
import { startCoordinator, type RunningCoordinator } from '../main';
import { enrollTestSite, type TestSite } from '../__tests__/harness';

/** Finding 8: compressed-looking bodies and client aborts are the client's problem, never a 500. */
describe('request encodings and aborted requests', () => {
  let c: RunningCoordinator;
  let operatorToken: string;
  let site: TestSite;
  const lines: Array<{ level: number; msg: string; code?: string }> = [];

  beforeAll(async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-enc-'));
    const destination = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l));
        cb();
      },
    });
    c = await startCoordinator(loadConfig({}, { dataDir, port: 0, store: 'memory', maxAuthFailuresPerMinute: 0 }), {
      logger: createLogger({ level: 'info', bindings: { name: 'twinfed-coordinator' }, destination }),
    });
    operatorToken = fs.readFileSync(c.operatorTokenFile, 'utf8').trim();
    site = await enrollTestSite({ url: c.url, operatorToken }, 'Enc');
  });
  afterAll(async () => c.close());

  test.each(['gzip', 'br', 'deflate', 'x-unknown'])(
    'Content-Encoding: %s with a plain body → 415 UNSUPPORTED_MEDIA_TYPE on every kind of route',
    async (encoding) => {
      const json = JSON.stringify({ protocol: 1, token: 'tfe_not-compressed' });
      const enroll = await fetch(c.url + routes.enroll, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        body: json,
      });
      expect(enroll.status).toBe(415);
      expect(((await enroll.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      const op = await fetch(c.url + routes.invitations, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${operatorToken}`,
          'content-type': 'application/json',
          'content-encoding': encoding,
        },
        body: JSON.stringify({ siteName: 'x' }),
      });
      expect(op.status).toBe(415);
      const before = lines.filter((l) => l.level >= 50).length;
      const upload = await fetch(c.url + routes.updates('f-none', 1), {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'content-encoding': encoding },
        body: new Uint8Array(64),
      });
      expect(upload.status).toBeLessThan(500);
      expect(lines.filter((l) => l.level >= 50).length).toBe(before);
      expect(site.siteId).toMatch(/^site-/);
    },
  );

  test('a client that aborts mid-body is logged at info, not as an INTERNAL error', async () => {
    const before = lines.length;
    await new Promise<void>((resolve) => {
      const req = http.request(c.url + routes.enroll, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': '5000' },
      });
      req.on('error', () => resolve());
      req.write('{"protocol":1,');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
    const deadline = Date.now() + 5000;
    while (!lines.slice(before).some((l) => /abort/i.test(l.msg)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const after = lines.slice(before);
    expect(after.filter((l) => l.level >= 40)).toEqual([]);
    expect(after.some((l) => l.level === 30 && /abort/i.test(l.msg))).toBe(true);
  });
});
