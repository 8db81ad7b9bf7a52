import { decodeRoundDownload, routes, type CurrentRound } from '@twinfed/shared';
import { enrollTestSite, json, operator, startTestCoordinator, testPlan, type TestSite } from '../__tests__/harness';

/** `GET …/rounds/current/download`: the current round and the latest version in one answer, for members only. */
describe('current round with the latest version', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let a: TestSite;
  let b: TestSite;
  let fid: string;

  beforeAll(async () => {
    c = await startTestCoordinator();
    a = await enrollTestSite(c, 'Alpha');
    b = await enrollTestSite(c, 'Beta');
    fid = (await json<{ id: string }>(operator(c, 'POST', routes.federations, { plan: testPlan() }))).id;
  });
  afterAll(async () => c.close());

  const answer = async (site: TestSite, query = '') => {
    const res = await site.request('GET', routes.currentRoundDownload(fid) + query);
    expect(res.status).toBe(200);
    return decodeRoundDownload(new Uint8Array(await res.arrayBuffer()));
  };
  const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  test('the round as rounds/current answers it, and the latest version exactly as /download serves it', async () => {
    const got = await answer(a);
    const current = await json<CurrentRound>(a.request('GET', routes.currentRound(fid)));
    expect(got.current).toEqual(current);
    const latest = current.federation.latestVersionId!;
    expect(latest).toBe(current.round!.baseVersionId);
    const download = new Uint8Array(await (await a.request('GET', routes.modelDownload(latest))).arrayBuffer());
    expect(Buffer.from(got.version!).equals(Buffer.from(download))).toBe(true);
  });

  test('nothing after the round when the site says it holds the latest version; the version when it holds another', async () => {
    const latest = ((await answer(a)).current as CurrentRound).federation.latestVersionId!;
    expect((await answer(a, `?have=${encodeURIComponent(latest)}`)).version).toBeUndefined();
    expect((await answer(a, `?have=${encodeURIComponent(`${fid}.v9`)}`)).version).toBeDefined();
  });

  test("a version's signed download is read once for every site's poll that carries it", async () => {
    const weights = jest.spyOn(c.store, 'getVersionWeights');
    try {
      const first = await answer(a);
      const second = await answer(b);
      expect(Buffer.from(second.version!).equals(Buffer.from(first.version!))).toBe(true);
      expect(weights.mock.calls.length).toBeLessThanOrEqual(1); // none when an earlier test's poll read it
    } finally {
      weights.mockRestore();
    }
  });

  test('each site gets its own round view (selected, submitted)', async () => {
    const [ga, gb] = [(await answer(a)).current as CurrentRound, (await answer(b)).current as CurrentRound];
    expect(ga.selected && gb.selected).toBe(true);
    expect(gb).toEqual(await json<CurrentRound>(b.request('GET', routes.currentRound(fid))));
  });

  test('refused before anything is read: unsigned 401, an operator 403, a non-member 403, an unknown federation 404, a bad query 400', async () => {
    const unsigned = await fetch(c.url + routes.currentRoundDownload(fid));
    expect([unsigned.status, await code(unsigned)]).toEqual([401, 'UNAUTHENTICATED']);
    const op = await operator(c, 'GET', routes.currentRoundDownload(fid));
    expect([op.status, await code(op)]).toEqual([403, 'FORBIDDEN']);
    const outsider = await enrollTestSite(c, 'Gamma');
    const stranger = await outsider.request('GET', routes.currentRoundDownload(fid));
    expect([stranger.status, await code(stranger)]).toEqual([403, 'NOT_A_MEMBER']);
    const unknown = await a.request('GET', routes.currentRoundDownload('fed-nope'));
    expect([unknown.status, await code(unknown)]).toEqual([404, 'UNKNOWN_FEDERATION']);
    for (const query of ['?have=', '?other=1', '?have=a&have=b']) {
      const bad = await a.request('GET', routes.currentRoundDownload(fid) + query);
      expect([query, bad.status, await code(bad)]).toEqual([query, 400, 'VALIDATION_FAILED']);
    }
  });
});
