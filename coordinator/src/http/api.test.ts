import { routes, type CurrentRound, type WeightSet } from '@twinfed/shared';
import {
  baseWeights,
  enrollTestSite,
  json,
  operator,
  startTestCoordinator,
  testPlan,
  type TestSite,
} from '../__tests__/harness';

type Coord = Awaited<ReturnType<typeof startTestCoordinator>>;

function filled(base: WeightSet, value: number): WeightSet {
  return { layout: base.layout, data: new Float32Array(base.data.length).fill(value) };
}

describe('coordinator REST API over real HTTP', () => {
  let c: Coord;
  let sites: TestSite[];
  let fid: string;

  beforeAll(async () => {
    c = await startTestCoordinator();
    sites = [await enrollTestSite(c, 'Alpha'), await enrollTestSite(c, 'Beta'), await enrollTestSite(c, 'Gamma')];
    const fed = await json<{ id: string; currentRound: number }>(
      operator(c, 'POST', routes.federations, { plan: testPlan({ rounds: 2, minSites: 2 }) }),
    );
    fid = fed.id;
  });
  afterAll(async () => c.close());

  test('a round aggregates example-weighted FedAvg and publishes a signed version', async () => {
    const [a, b, g] = sites as [TestSite, TestSite, TestSite];
    const cur = await json<CurrentRound>(a.request('GET', routes.currentRound(fid)));
    expect(cur.round?.round).toBe(1);
    expect(cur.selected).toBe(true);
    const base = await baseWeights(a, cur.round!.baseVersionId);
    const up = (s: TestSite, v: number, n: number) =>
      s.request(
        'POST',
        routes.updates(fid, 1),
        s.seal({
          federationId: fid,
          round: 1,
          baseVersionId: cur.round!.baseVersionId,
          weights: filled(base, v),
          numExamples: n,
          metrics: { trainLoss: v },
        }),
      );
    const ra = await up(a, 1, 10);
    expect(ra.status).toBe(201);
    // The same bytes again are acknowledged as a duplicate; different bytes conflict.
    const bytes = a.seal({
      federationId: fid,
      round: 1,
      baseVersionId: cur.round!.baseVersionId,
      weights: filled(base, 5),
      numExamples: 10,
    });
    expect((await a.request('POST', routes.updates(fid, 1), bytes)).status).toBe(409);
    expect((await up(b, 2, 30)).status).toBe(201);
    expect((await up(g, 4, 60)).status).toBe(201);
    const fed = await json<{ latestVersionId: string; currentRound: number }>(
      operator(c, 'GET', routes.federation(fid)),
    );
    expect(fed.latestVersionId).toBe(`${fid}.v1`);
    expect(fed.currentRound).toBe(2);
    const v1 = await baseWeights(a, fed.latestVersionId);
    const expected = (1 * 10 + 2 * 30 + 4 * 60) / 100;
    for (const x of v1.data) expect(x).toBeCloseTo(expected, 5);
    const meta = await json<{ meta: { contributors: Array<{ numExamples: number }>; parentVersionId: string } }>(
      operator(c, 'GET', routes.model(fed.latestVersionId)),
    );
    expect(meta.meta.contributors.map((x) => x.numExamples).sort((x, y) => x - y)).toEqual([10, 30, 60]);
    expect(meta.meta.parentVersionId).toBe(`${fid}.v0`);
  });

  test('the weights endpoint serves an ETag and honours If-None-Match', async () => {
    const vid = `${fid}.v1`;
    const res = await sites[0]!.request('GET', routes.modelWeights(vid));
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    const again = await fetch(c.url + routes.modelWeights(vid), {
      headers: { authorization: `Bearer ${c.operatorToken}`, 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
  });

  test('bad input gets a stable 4xx code and changes nothing', async () => {
    const [a, b] = sites as [TestSite, TestSite];
    const cur = await json<CurrentRound>(a.request('GET', routes.currentRound(fid)));
    const r = cur.round!.round;
    const base = await baseWeights(a, cur.round!.baseVersionId);
    const code = async (res: Promise<Response>) => {
      const x = await res;
      return `${x.status} ${((await x.json()) as { error: { code: string } }).error.code}`;
    };
    const seal = (s: TestSite, w: WeightSet, o: Partial<{ round: number; baseVersionId: string }> = {}) =>
      s.seal({
        federationId: fid,
        round: o.round ?? r,
        baseVersionId: o.baseVersionId ?? cur.round!.baseVersionId,
        weights: w,
        numExamples: 5,
      });
    const nan = filled(base, 0.5);
    nan.data[1] = Number.NaN;
    // The envelope refuses to seal NaN, so forge one by sealing first and checking the server path with a wrong layout instead.
    expect(() => seal(a, nan)).toThrow();
    const wrongShape: WeightSet = {
      layout: [
        { name: 'dense/kernel', shape: [4, 1], dtype: 'float32' },
        { name: 'dense/bias', shape: [1], dtype: 'float32' },
      ],
      data: new Float32Array(5),
    };
    expect(await code(a.request('POST', routes.updates(fid, r), seal(a, wrongShape)))).toBe('400 INVALID_WEIGHTS');
    expect(await code(a.request('POST', routes.updates(fid, r), seal(a, base, { baseVersionId: `${fid}.v0` })))).toBe(
      '409 WRONG_BASE_VERSION',
    );
    const late = await enrollTestSite(c, 'Delta');
    // Enrolled after the federation started and not selected yet: it does not belong to the federation (membership.test).
    expect(await code(late.request('POST', routes.updates(fid, 1), seal(late, base, { round: 1 })))).toBe(
      '403 NOT_A_MEMBER',
    );
    expect(await code(a.request('POST', routes.updates(fid, r), new Uint8Array([1, 2, 3])))).toBe(
      '400 INVALID_ENVELOPE',
    );
    // Another site's envelope uploaded under my identity.
    expect(await code(a.request('POST', routes.updates(fid, r), seal(b, base)))).toBe('403 FORBIDDEN');
    expect(
      await code(
        fetch(c.url + routes.enroll, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"token": ',
        }),
      ),
    ).toBe('400 INVALID_JSON');
    expect(
      await code(
        fetch(c.url + routes.enroll, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ protocol: 1, token: 'x'.repeat(40), signPublicKey: 'AA==', boxPublicKey: 'AA==' }),
        }),
      ),
    ).toMatch(/^400 /);
    expect(
      await code(
        fetch(c.url + routes.enroll, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: 'x'.repeat(2 * 1024 * 1024),
        }),
      ),
    ).toBe('413 PAYLOAD_TOO_LARGE');
    expect(await code(operator(c, 'POST', routes.federations, { plan: { name: 'x' } }))).toBe('400 INVALID_PLAN');
    const rounds = await json<{ rounds: Array<{ round: number; received: number }> }>(
      operator(c, 'GET', routes.rounds(fid)),
    );
    expect(rounds.rounds.find((x) => x.round === r)?.received).toBe(0);
  });

  test('forged signatures, replays, stale requests and unknown sites are rejected', async () => {
    const a = sites[0]!;
    const p = routes.currentRound(fid);
    const good = await a.request('GET', p);
    expect(good.status).toBe(200);
    const { signRequest, generateIdentity } = await import('@twinfed/shared');
    const forger = generateIdentity();
    const forged = signRequest({ method: 'GET', path: p, siteId: a.siteId, signSecretKey: forger.sign.secretKey });
    expect((await fetch(c.url + p, { headers: forged })).status).toBe(401);
    const headers = signRequest({ method: 'GET', path: p, siteId: a.siteId, signSecretKey: a.identity.sign.secretKey });
    expect((await fetch(c.url + p, { headers })).status).toBe(200);
    const replay = await fetch(c.url + p, { headers });
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('REPLAYED_REQUEST');
    const stale = signRequest({
      method: 'GET',
      path: p,
      siteId: a.siteId,
      signSecretKey: a.identity.sign.secretKey,
      now: Date.now() - 60 * 60 * 1000,
    });
    expect(
      ((await (await fetch(c.url + p, { headers: stale })).json()) as { error: { code: string } }).error.code,
    ).toBe('STALE_REQUEST');
    const unknown = signRequest({
      method: 'GET',
      path: p,
      siteId: 'site-nobody',
      signSecretKey: forger.sign.secretKey,
    });
    expect(
      ((await (await fetch(c.url + p, { headers: unknown })).json()) as { error: { code: string } }).error.code,
    ).toBe('UNKNOWN_SITE');
    // The signature covers the path: a signed request replayed on another path fails.
    const other = signRequest({
      method: 'GET',
      path: routes.siteSelf,
      siteId: a.siteId,
      signSecretKey: a.identity.sign.secretKey,
    });
    expect((await fetch(c.url + p, { headers: other })).status).toBe(401);
  });

  test('a revoked site can no longer upload or connect', async () => {
    const g = sites[2]!;
    const cur = await json<CurrentRound>(g.request('GET', routes.currentRound(fid)));
    const base = await baseWeights(g, cur.round!.baseVersionId);
    const revoke = await operator(c, 'POST', routes.revokeSite(g.siteId));
    expect(revoke.status).toBe(200);
    const res = await g.request(
      'POST',
      routes.updates(fid, cur.round!.round),
      g.seal({
        federationId: fid,
        round: cur.round!.round,
        baseVersionId: cur.round!.baseVersionId,
        weights: base,
        numExamples: 3,
      }),
    );
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('SITE_REVOKED');
  });

  test('the round fails at its deadline without quorum and the next starts from the same version', async () => {
    const now = { t: Date.now() };
    const c2 = await startTestCoordinator({ now: () => now.t });
    try {
      const s = await enrollTestSite(c2, 'Solo');
      const fed = await json<{ id: string }>(
        operator(c2, 'POST', routes.federations, {
          plan: testPlan({ minSites: 2, roundDeadlineSeconds: 1, maxConsecutiveFailedRounds: 2 }),
        }),
      );
      expect(fed.id).toMatch(/^fed-/);
      now.t += 1500;
      type Rounds = {
        rounds: Array<{ round: number; state: string; baseVersionId: string; failureReason: string | null }>;
      };
      let rounds: Rounds = { rounds: [] };
      const deadline = Date.now() + 30_000; // the deadline timer and the next round, on a loaded machine
      while (rounds.rounds.length < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        rounds = await json<Rounds>(operator(c2, 'GET', routes.rounds(fed.id)));
      }
      expect(rounds.rounds[0]!.state).toBe('failed');
      expect(rounds.rounds[0]!.failureReason).toMatch(/minSites is 2/);
      expect(rounds.rounds[1]!.baseVersionId).toBe(rounds.rounds[0]!.baseVersionId);
      expect(s.siteId).toBeTruthy();
    } finally {
      await c2.close();
    }
  });
});
