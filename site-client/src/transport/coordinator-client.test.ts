import {
  generateIdentity,
  roundDownloadHead,
  routes,
  signedDownloadHead,
  verifyRequest,
  type OfferedFederation,
  type SiteDecisionView,
} from '@twinfed/shared';
import { coordinatorFetch } from '../__tests__/coordinator-fetch';
import { FakeCoordinator } from '../__tests__/fake-coordinator';
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

describe('CoordinatorClient currentRoundWithVersion', () => {
  const fake = new FakeCoordinator();
  const fid = fake.federationId;
  const clientOf = (fetch: FetchLike) =>
    new CoordinatorClient({
      baseUrl: 'http://coord.test',
      credentials: { siteId: 'site-a', signSecretKey: site.sign.secretKey },
      fetch,
      retry: { retries: 0, baseMs: 1, maxMs: 1 },
    });
  const pathOf = (url: string) => {
    const u = new URL(url);
    return u.pathname + u.search;
  };

  test('one signed request: the round as rounds/current serves it, and the latest version unless the site holds it', async () => {
    const served = coordinatorFetch(fake);
    const client = clientOf(served.fetch);
    const first = await client.currentRoundWithVersion(fid);
    const { federation, round, selected, submitted } = await fake.currentRound(fid);
    // The fake stamps its times at each answer: everything else is the same.
    expect(first.current).toMatchObject({
      federation: { id: federation.id, plan: federation.plan, latestVersionId: 'v0' },
      round: { round: round!.round, baseVersionId: round!.baseVersionId, state: round!.state },
      selected,
      submitted,
    });
    const head = signedDownloadHead({
      meta: fake.versions.get('v0')!.meta,
      signature: fake.versions.get('v0')!.signature,
    });
    expect(Buffer.from(first.version!).equals(Buffer.concat([head, fake.versions.get('v0')!.bytes]))).toBe(true);
    const held = await client.currentRoundWithVersion(fid, { have: 'v0' });
    expect(held.version).toBeUndefined();
    expect(served.requests.map((r) => [r.method, pathOf(r.url)])).toEqual([
      ['GET', routes.currentRoundDownload(fid)],
      ['GET', `${routes.currentRoundDownload(fid)}?have=v0`],
    ]);
    expect(served.requests.every((r) => r.headers['x-twinfed-signature'] !== undefined)).toBe(true);
  });

  test('falls back to rounds/current at a coordinator without the route (404 NOT_FOUND), and asks only rounds/current after', async () => {
    const seen: string[] = [];
    const current = await fake.currentRound(fid);
    const client = clientOf(async (url) => {
      const p = new URL(url).pathname;
      seen.push(p);
      if (p.endsWith('/download'))
        return Response.json({ error: { code: 'NOT_FOUND', message: 'No such route.' } }, { status: 404 });
      return Response.json(current);
    });
    expect(await client.currentRoundWithVersion(fid, { have: 'v0' })).toEqual({ current });
    expect(await client.currentRoundWithVersion(fid)).toEqual({ current });
    expect(seen).toEqual([routes.currentRoundDownload(fid), routes.currentRound(fid), routes.currentRound(fid)]);
  });

  test('another refusal is no missing route: NOT_A_MEMBER goes up, nothing else is asked', async () => {
    const seen: string[] = [];
    const client = clientOf(async (url) => {
      seen.push(new URL(url).pathname);
      return Response.json({ error: { code: 'NOT_A_MEMBER', message: 'Not a member.' } }, { status: 403 });
    });
    await expect(client.currentRoundWithVersion(fid)).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
    expect(seen).toEqual([routes.currentRoundDownload(fid)]);
  });

  test('a round part that does not match the protocol is INTERNAL, like a rounds/current answer that does not', async () => {
    const client = clientOf(async () => new Response(roundDownloadHead({ federation: 'nope' })));
    await expect(client.currentRoundWithVersion(fid)).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

describe('CoordinatorClient secaggState', () => {
  const state = {
    federationId: 'fed-1',
    round: 1,
    phase: 'unmasking',
    threshold: 2,
    cohort: [],
    shared: true,
    revealed: false,
    survivors: null,
    sharesForMe: [],
    maskedBy: ['site-a', 'site-b'],
    consistency: [],
    sharesDeadlineAt: '2026-01-01T00:00:00.000Z',
    unmaskDeadlineAt: '2026-01-01T00:01:00.000Z',
    view: 'neighbourhood',
    cohortIds: ['site-a', 'site-b', 'site-c'],
    survivorIds: ['site-a', 'site-b'],
  };

  test('a signed GET with the view asked, the answer validated', async () => {
    const { client, seen } = answering(state);
    await expect(client.secaggState({ federationId: 'fed-1', round: 1, view: 'neighbourhood' })).resolves.toEqual(
      state,
    );
    expect([seen[0]!.method, seen[0]!.url]).toEqual([
      'GET',
      'http://coord.test/v1/federations/fed-1/rounds/1/secagg?view=neighbourhood',
    ]);
  });

  test('an id list that does not match the protocol is INTERNAL', async () => {
    const { client } = answering({ ...state, maskedBy: ['site-a', 'site b'] });
    await expect(client.secaggState({ federationId: 'fed-1', round: 1 })).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
