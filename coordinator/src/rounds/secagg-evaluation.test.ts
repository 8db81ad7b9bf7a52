import { routes, type CurrentRound, type EvaluationView } from '@twinfed/shared';
import { enrollTestSite, json, operator, startTestCoordinator, testPlan, type TestSite } from '../__tests__/harness';
import { secaggSite } from './__tests__/secagg-site';

/**
 * In a secure round, a site's evaluation of the round's base version travels on its key-share message
 * (`baseEvaluation`, in the same signed request): taken as `POST /v1/models/:vid/evaluations` takes one, never stored
 * with the share message nor relayed to another site, and refused whole (`INVALID_BASE_EVALUATION`) when that route
 * would refuse the report.
 */
describe('the evaluation of the base version carried by the key-share message', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let sites: TestSite[];

  beforeAll(async () => {
    c = await startTestCoordinator();
    sites = [await enrollTestSite(c, 'Alpha'), await enrollTestSite(c, 'Beta'), await enrollTestSite(c, 'Gamma')];
  });
  afterAll(async () => c.close());

  const report = { n: 40, metrics: { auc: 0.9, loss: 0.4 } };

  async function start(privacy: Record<string, unknown> = {}, training?: Record<string, unknown>) {
    const plan = testPlan({
      minSites: 3,
      roundDeadlineSeconds: 60,
      privacy: { secureAggregation: true, ...privacy },
      ...(training ? { training } : {}),
    });
    const fid = (await json<{ id: string }>(operator(c, 'POST', routes.federations, { plan }))).id;
    const current = await json<CurrentRound>(sites[0]!.request('GET', routes.currentRound(fid)));
    const { round, baseVersionId } = current.round!;
    const hands = sites.map((s) => secaggSite(s, fid, baseVersionId));
    /** Posts site i's key shares with `baseEvaluation` (none when undefined): `status code`. */
    const share = async (i: number, baseEvaluation?: unknown) => {
      const body = {
        ...(await hands[i]!.sharesBody(round)),
        ...(baseEvaluation === undefined ? {} : { baseEvaluation }),
      };
      const res = await sites[i]!.request('POST', routes.secaggShares(fid, round), body);
      const answer = await json<{ error?: { code: string } }>(res);
      return `${res.status} ${answer.error?.code ?? 'ok'}`;
    };
    const evaluations = async () =>
      (await json<{ evaluations: EvaluationView[] }>(operator(c, 'GET', routes.modelEvaluations(baseVersionId))))
        .evaluations;
    return { fid, round, baseVersionId, hands, share, evaluations };
  }

  test('taken with the shares and served like a posted one; never stored with the message nor relayed; a site sending none is served as before', async () => {
    const { fid, round, baseVersionId, hands, share, evaluations } = await start();
    expect(await share(0, report)).toBe('201 ok');
    expect(await share(1)).toBe('201 ok');
    // Sent again (a restarted site): the same answer as for shares alone.
    expect(await share(0, report)).toBe('200 ok');
    expect((await evaluations()).map((e) => [e.versionId, e.siteId, e.n, e.metrics])).toEqual([
      [baseVersionId, sites[0]!.siteId, 40, report.metrics],
    ]);
    expect(await share(2)).toBe('201 ok');
    // The stored share messages, and what other sites are relayed of them, hold no evaluation.
    for (const m of await c.store.listSecaggMessages(fid, round, 'shares'))
      expect(Object.keys(JSON.parse(m.payload) as object).sort()).toEqual(['maskPublicKey', 'shares', 'signature']);
    const relayed = JSON.stringify(await hands[1]!.state(round));
    expect(relayed).not.toContain('auc');
    expect(relayed).not.toContain('baseEvaluation');
  });

  test.each([
    ['n above the plan’s per-site maximum', { ...report, n: 501 }],
    ['an unknown field', { ...report, extra: 1 }],
  ])(
    'shares whose evaluation has %s are refused (400 INVALID_BASE_EVALUATION): neither is stored',
    async (_what, bad) => {
      const { fid, round, share, evaluations } = await start(
        {},
        { steps: 10, batchSize: 4, optimizer: 'sgd', lr: 0.1, maxExamplesPerSite: 500 },
      );
      expect(await share(0, bad)).toBe('400 INVALID_BASE_EVALUATION');
      expect(await c.store.countSecaggMessages(fid, round, 'shares')).toBe(0);
      expect(await evaluations()).toEqual([]);
      expect(await share(0)).toBe('201 ok');
    },
  );

  test('under distributed DP the coordinator takes no per-site evaluation on the shares either', async () => {
    const { fid, round, share, evaluations } = await start({ dp: { clip: 0.05, noiseMultiplier: 1, delta: 1e-5 } });
    expect(await share(0, report)).toBe('400 INVALID_BASE_EVALUATION');
    expect(await c.store.countSecaggMessages(fid, round, 'shares')).toBe(0);
    expect(await evaluations()).toEqual([]);
  });
});
