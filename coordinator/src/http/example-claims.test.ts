import { deserializeWeights, routes, type CurrentRound, type FederationView, type WeightSet } from '@twinfed/shared';
import { enrollTestSite, operator, startTestCoordinator, testPlan, type TestSite } from '../__tests__/harness';

/** A site's claimed example count weights its update: the claim is bounded, so no site can take the model over. */
describe('numExamples claims (issue 10, finding 4)', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let honest: TestSite[];
  let mallory: TestSite;

  beforeAll(async () => {
    c = await startTestCoordinator();
    honest = [await enrollTestSite(c, 'Honest A'), await enrollTestSite(c, 'Honest B')];
    mallory = await enrollTestSite(c, 'Mallory');
  });
  afterAll(async () => c.close());

  const code = async (res: Response) =>
    `${res.status} ${((await res.json()) as { error?: { code: string } }).error?.code ?? 'ok'}`;
  const shifted = (base: WeightSet, by: number): WeightSet => ({ ...base, data: base.data.map((w) => w + by) });

  async function start(plan: Record<string, unknown>) {
    const fid = ((await (await operator(c, 'POST', routes.federations, { plan })).json()) as { id: string }).id;
    const cur = (await (await mallory.request('GET', routes.currentRound(fid))).json()) as CurrentRound;
    const base = deserializeWeights(
      new Uint8Array(await (await mallory.request('GET', routes.modelWeights(cur.round!.baseVersionId))).arrayBuffer()),
    );
    return { fid, round: cur.round!.round, baseVersionId: cur.round!.baseVersionId, base };
  }

  async function published(fid: string): Promise<string> {
    for (;;) {
      const f = (await (await operator(c, 'GET', routes.federation(fid))).json()) as FederationView;
      if (f.currentRound >= 2 && f.latestVersionId) return f.latestVersionId;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  test('a site claiming 2^53 − 1 examples is refused with EXAMPLES_OUT_OF_RANGE; the round closes from the honest sites', async () => {
    const { fid, round, baseVersionId, base } = await start(testPlan({ minSites: 2, closeAt: 'quorum' }));
    /** `s` uploads the base shifted by `by`, claiming `numExamples`; the response as `status code`. */
    const upload = async (s: TestSite, by: number, numExamples: number) =>
      code(
        await s.request(
          'POST',
          routes.updates(fid, round),
          s.seal({ federationId: fid, round, baseVersionId, weights: shifted(base, by), numExamples }),
        ),
      );
    expect(await upload(mallory, 100, Number.MAX_SAFE_INTEGER)).toBe('400 EXAMPLES_OUT_OF_RANGE');
    expect(await c.store.countUpdates(fid, round)).toBe(0);

    const [a, b] = honest as [TestSite, TestSite];
    expect(await upload(a, 1, 30)).toBe('201 ok');
    expect(await upload(b, 2, 10)).toBe('201 ok');

    const vid = await published(fid);
    const v = deserializeWeights(
      new Uint8Array(await (await mallory.request('GET', routes.modelWeights(vid))).arrayBuffer()),
    );
    // (30·(w+1) + 10·(w+2)) / 40 = w + 1.25: the honest example-weighted mean, nothing of Mallory's.
    v.data.forEach((w, i) => expect(w).toBeCloseTo(base.data[i]! + 1.25, 5));
  });

  test('the plan’s training.maxExamplesPerSite bounds the claim; the maximum itself is accepted', async () => {
    const { fid, round, baseVersionId, base } = await start(
      testPlan({
        minSites: 2,
        training: { steps: 10, batchSize: 4, optimizer: 'sgd', lr: 0.1, maxExamplesPerSite: 500 },
      }),
    );
    const seal = (n: number) =>
      mallory.seal({ federationId: fid, round, baseVersionId, weights: base, numExamples: n });
    expect(await code(await mallory.request('POST', routes.updates(fid, round), seal(501)))).toBe(
      '400 EXAMPLES_OUT_OF_RANGE',
    );
    expect(await code(await mallory.request('POST', routes.updates(fid, round), seal(500)))).toBe('201 ok');
  });
});
