import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validate } from '@readme/openapi-parser';
import { routes, silentLogger } from '@twinfed/shared';
import { startTestCoordinator } from '../__tests__/harness';
import { loadConfig } from '../config';
import { createApp } from './app';
import type { HttpDeps } from './deps';

type Doc = { openapi: string; paths: Record<string, Record<string, unknown>> };

/** `METHOD /path/:param` of every route the express router actually serves (its own stack, not the contract). */
function servedRoutes(): string[] {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-openapi-'));
  const config = loadConfig({}, { dataDir, port: 0, store: 'memory', logLevel: 'silent' });
  const app = createApp({ config, logger: silentLogger(), now: Date.now, store: {} } as unknown as HttpDeps);
  const stack = (
    app as unknown as { router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } }
  ).router.stack;
  const out: string[] = [];
  for (const layer of stack) {
    if (!layer.route) continue;
    for (const [method, on] of Object.entries(layer.route.methods))
      if (on) out.push(`${method.toUpperCase()} ${layer.route.path}`);
  }
  return out.sort();
}

function documentedRoutes(doc: Doc): string[] {
  return Object.entries(doc.paths)
    .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{([^}]+)\}/g, ':$1')}`))
    .sort();
}

describe('GET /openapi.json', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let doc: Doc;
  beforeAll(async () => {
    c = await startTestCoordinator();
    const res = await fetch(c.url + routes.openapi);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await res.json()) as Doc;
  });
  afterAll(async () => c.close());

  test('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result).toMatchObject({ valid: true });
  });

  test('documents every route the router serves, and nothing else', () => {
    const served = servedRoutes();
    expect(served.length).toBeGreaterThan(30);
    expect(documentedRoutes(doc)).toEqual(served);
  });

  test('documents the roles, the request and the error codes of an operation', () => {
    const upload = doc.paths['/v1/federations/{fid}/rounds/{round}/updates']?.post as Record<string, unknown>;
    expect(upload['x-twinfed-roles']).toEqual(['site']);
    expect(upload.requestBody).toMatchObject({ content: { 'application/octet-stream': {} } });
    expect(Object.keys(upload.responses as object)).toEqual(
      expect.arrayContaining(['200', '201', '401', '403', '409', '413', '503']),
    );
    expect(
      (upload.responses as Record<string, { 'x-twinfed-error-codes'?: string[] }>)['409']?.['x-twinfed-error-codes'],
    ).toContain('WRONG_BASE_VERSION');
  });
});
