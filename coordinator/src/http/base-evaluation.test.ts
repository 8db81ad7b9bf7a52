import { routes, serializeWeights, type CurrentRound, type EvaluationView } from '@twinfed/shared';
import {
  baseWeights,
  enrollTestSite,
  json,
  operator,
  startTestCoordinator,
  testPlan,
  type TestSite,
} from '../__tests__/harness';
import { sealRawUpdate } from '../__tests__/hostile-envelope';

/**
 * A site's evaluation of a round's base version may travel in the signed header of its update for that round
 * (`baseEvaluation`): taken exactly as `POST /v1/models/:vid/evaluations` takes one, in the update's own write.
 */
describe('the evaluation of the base version carried by an update', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let sites: TestSite[];

  beforeAll(async () => {
    c = await startTestCoordinator();
    sites = [await enrollTestSite(c, 'Alpha'), await enrollTestSite(c, 'Beta'), await enrollTestSite(c, 'Gamma')];
  });
  afterAll(async () => c.close());

  const report = { n: 40, metrics: { auc: 0.9, loss: 0.4 } };

  /** A new federation of `plan`, its first round and base version, and `upload(site, baseEvaluation)` as `status code`. */
  async function start(plan: Record<string, unknown>) {
    const fid = (await json<{ id: string }>(operator(c, 'POST', routes.federations, { plan }))).id;
    const current = await json<CurrentRound>(sites[0]!.request('GET', routes.currentRound(fid)));
    const { round, baseVersionId } = current.round!;
    const weights = await baseWeights(sites[0]!, baseVersionId);
    // Sealed field by field (our sealUpdate refuses a header its schema refuses): what any client could send.
    const upload = async (s: TestSite, baseEvaluation?: unknown) => {
      const envelope = sealRawUpdate({
        header: { federationId: fid, round, siteId: s.siteId, baseVersionId, numExamples: 10, baseEvaluation },
        plaintext: serializeWeights(weights),
        identity: s.identity,
        coordinatorBoxPublicKey: s.coordinatorBoxPublicKey,
      });
      const res = await s.request('POST', routes.updates(fid, round), envelope);
      const body = await json<{ error?: { code: string } }>(res);
      return `${res.status} ${body.error?.code ?? 'ok'}`;
    };
    const evaluations = async () =>
      (await json<{ evaluations: EvaluationView[] }>(operator(c, 'GET', routes.modelEvaluations(baseVersionId))))
        .evaluations;
    return { fid, round, baseVersionId, upload, evaluations };
  }

  test('an accepted update stores its evaluation of the base version, served like a posted one; an update without one stores none', async () => {
    const { upload, evaluations, baseVersionId } = await start(testPlan({ minSites: 3 }));
    const calibration = {
      ece: 0.05,
      bins: Array.from({ length: 10 }, (_, i) =>
        i === 2 ? { n: 40, meanPredicted: 0.25, observedRate: 0.2 } : { n: 0, meanPredicted: null, observedRate: null },
      ),
    };
    const [alpha, beta] = sites as [TestSite, TestSite];
    expect(await upload(alpha, { ...report, calibration })).toBe('201 ok');
    expect(await upload(beta)).toBe('201 ok');
    const stored = await evaluations();
    expect(stored.map((e) => [e.versionId, e.siteId, e.n, e.metrics, e.calibration])).toEqual([
      [baseVersionId, alpha.siteId, 40, report.metrics, calibration],
    ]);
  });

  test.each([
    ['n above the plan’s per-site maximum', { ...report, n: 501 }],
    ['a metric outside its range', { ...report, metrics: { auc: 1.5 } }],
    ['an unknown field', { ...report, extra: 1 }],
  ])(
    'an update whose evaluation has %s is refused (400 INVALID_BASE_EVALUATION): neither is stored',
    async (_what, bad) => {
      const { fid, round, upload, evaluations } = await start(
        testPlan({
          minSites: 3,
          training: { steps: 10, batchSize: 4, optimizer: 'sgd', lr: 0.1, maxExamplesPerSite: 500 },
        }),
      );
      expect(await upload(sites[0]!, bad)).toBe('400 INVALID_BASE_EVALUATION');
      expect(await c.store.countUpdates(fid, round)).toBe(0);
      expect(await evaluations()).toEqual([]);
      // The same site's update without it is taken.
      expect(await upload(sites[0]!)).toBe('201 ok');
    },
  );

  test('under DP the coordinator takes no per-site evaluation, carried or posted', async () => {
    const { fid, round, upload, evaluations } = await start(
      testPlan({ minSites: 3, privacy: { dp: { clip: 0.3, noiseMultiplier: 1.1, delta: 1e-5 } } }),
    );
    expect(await upload(sites[0]!, report)).toBe('400 INVALID_BASE_EVALUATION');
    expect(await c.store.countUpdates(fid, round)).toBe(0);
    expect(await evaluations()).toEqual([]);
  });
});
