import { generateIdentity, verifyRequest, type OfferedFederation, type SiteDecisionView } from '@twinfed/shared';
import { CoordinatorClient } from './coordinator-client';
import type { FetchLike } from './http';

const site = generateIdentity();
const HASH = 'c'.repeat(64);

/** A fetch that records each request and answers `answer` (JSON, 200). */
function answering(answer: unknown) {
  const seen: Array<{ url: string; method: string; headers: Record<string, string>; body: string | undefined }> = [];
  const fetch: FetchLike = async (url, init) => {
    seen.push({
      url,
      method: String(init.method),
      headers: init.headers as Record<string, string>,
      body: init.body as string | undefined,
    });
    return new Response(JSON.stringify(answer), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const client = new CoordinatorClient({
    baseUrl: 'http://coord.test',
    credentials: { siteId: 'site-a', signSecretKey: site.sign.secretKey },
    fetch,
    retry: { retries: 0, baseMs: 1, maxMs: 1 },
  });
  return { client, seen };
}

const decision: SiteDecisionView = {
  federationId: 'fed-1',
  siteId: 'site-a',
  siteName: 'Alpha',
  decision: 'approved',
  planSha256: HASH,
  decidedAt: '2026-01-01T00:00:00.000Z',
};

describe('CoordinatorClient plan governance calls', () => {
  test('federationDecision: a signed PUT of the decision and the plan hash only, answered with the decision view', async () => {
    const { client, seen } = answering(decision);
    await expect(
      client.federationDecision({ federationId: 'fed-1', decision: 'approved', planSha256: HASH }),
    ).resolves.toEqual(decision);
    const req = seen[0]!;
    expect([req.method, req.url]).toEqual(['PUT', 'http://coord.test/v1/federations/fed-1/decision']);
    expect(JSON.parse(req.body!)).toEqual({ decision: 'approved', planSha256: HASH });
    expect(
      verifyRequest({
        method: 'PUT',
        path: '/v1/federations/fed-1/decision',
        body: req.body!,
        headers: req.headers,
        signPublicKey: site.sign.publicKey,
        now: Date.now(),
        windowMs: 60_000,
      }).siteId,
    ).toBe('site-a');
  });

  test('federationDecision refuses an answer that is not a decision view', async () => {
    const { client } = answering({ ...decision, decision: 'maybe' });
    await expect(
      client.federationDecision({ federationId: 'fed-1', decision: 'approved', planSha256: HASH }),
    ).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  test('siteFederations: a signed GET, each offered federation with its decision, validated', async () => {
    const { client, seen } = answering({ federations: [] as OfferedFederation[] });
    await expect(client.siteFederations()).resolves.toEqual([]);
    expect([seen[0]!.method, seen[0]!.url]).toEqual(['GET', 'http://coord.test/v1/sites/self/federations']);
    const bad = answering({ federations: [{ federation: { id: 'fed-1' }, decision }] });
    await expect(bad.client.siteFederations()).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

describe('CoordinatorClient modelDownload', () => {
  test('falls back to the metadata and weights routes at a coordinator without /download (404 NOT_FOUND)', async () => {
    const seen: string[] = [];
    const signed = { meta: { versionId: 'fed-1.v1' }, signature: 'c2ln' };
    const weights = new Uint8Array([1, 2, 3, 4]);
    const fetch: FetchLike = async (url) => {
      const p = new URL(url).pathname;
      seen.push(p);
      if (p.endsWith('/download'))
        return Response.json({ error: { code: 'NOT_FOUND', message: 'No such route.' } }, { status: 404 });
      if (p.endsWith('/weights')) return new Response(weights, { headers: { etag: '"abc"' } });
      return Response.json(signed);
    };
    const client = new CoordinatorClient({
      baseUrl: 'http://coord.test',
      credentials: { siteId: 'site-a', signSecretKey: site.sign.secretKey },
      fetch,
      retry: { retries: 0, baseMs: 1, maxMs: 1 },
    });
    const d = await client.modelDownload('fed-1.v1');
    expect({ meta: d.meta, signature: d.signature, weights: [...d.weights] }).toEqual({
      ...signed,
      weights: [1, 2, 3, 4],
    });
    expect(seen).toEqual(['/v1/models/fed-1.v1/download', '/v1/models/fed-1.v1', '/v1/models/fed-1.v1/weights']);
  });

  test('an unknown version is not a missing route: UNKNOWN_MODEL_VERSION goes up, nothing else is asked', async () => {
    const seen: string[] = [];
    const fetch: FetchLike = async (url) => {
      seen.push(new URL(url).pathname);
      return Response.json({ error: { code: 'UNKNOWN_MODEL_VERSION', message: 'No such version.' } }, { status: 404 });
    };
    const client = new CoordinatorClient({
      baseUrl: 'http://coord.test',
      credentials: { siteId: 'site-a', signSecretKey: site.sign.secretKey },
      fetch,
      retry: { retries: 0, baseMs: 1, maxMs: 1 },
    });
    await expect(client.modelDownload('fed-1.v9')).rejects.toMatchObject({ code: 'UNKNOWN_MODEL_VERSION' });
    expect(seen).toEqual(['/v1/models/fed-1.v9/download']);
  });
});
