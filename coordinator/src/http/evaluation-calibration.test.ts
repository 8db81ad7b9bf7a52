import { routes, type CurrentRound, type EvaluationView } from '@twinfed/shared';
import { enrollTestSite, operator, startTestCoordinator, testPlan, type TestSite } from '../__tests__/harness';

/** A site's evaluation with its calibration (issue #15): validated at the API, stored, served to readers. */
describe('evaluation calibration at the API', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let site: TestSite;
  let vid: string;

  beforeAll(async () => {
    c = await startTestCoordinator();
    site = await enrollTestSite(c, 'Alpha');
    await enrollTestSite(c, 'Beta');
    const fid = ((await (await operator(c, 'POST', routes.federations, { plan: testPlan() })).json()) as { id: string })
      .id;
    const cur = (await (await site.request('GET', routes.currentRound(fid))).json()) as CurrentRound;
    vid = cur.round!.baseVersionId;
  });
  afterAll(async () => c.close());

  const empty = { n: 0, meanPredicted: null, observedRate: null };
  /** 40 rows: 20 at about 0.15 (10 % positive), 20 at about 0.85 (90 % positive). */
  const curve = () => ({
    ece: 0.05,
    bins: Array.from({ length: 10 }, (_, i) =>
      i === 1
        ? { n: 20, meanPredicted: 0.15, observedRate: 0.1 }
        : i === 8
          ? { n: 20, meanPredicted: 0.85, observedRate: 0.9 }
          : { ...empty },
    ),
  });
  const post = async (calibration: unknown, n = 40) => {
    const res = await site.request('POST', routes.modelEvaluations(vid), { n, metrics: { auc: 0.9 }, calibration });
    return { status: res.status, body: (await res.json()) as { error?: { code: string; details?: unknown } } };
  };

  test.each([
    ['9 bins', { ...curve(), bins: curve().bins.slice(1) }, 40],
    ['bin counts not summing to n', curve(), 41],
    [
      'a rate above 1',
      { ...curve(), bins: curve().bins.map((b, i) => (i === 8 ? { ...b, observedRate: 1.5 } : b)) },
      40,
    ],
    [
      'a fractional count',
      { ...curve(), bins: curve().bins.map((b, i) => (i === 1 ? { ...b, n: 19.5 } : i === 8 ? { ...b, n: 20.5 } : b)) },
      40,
    ],
    [
      'a mean prediction outside its bin',
      { ...curve(), bins: curve().bins.map((b, i) => (i === 1 ? { ...b, meanPredicted: 0.5 } : b)) },
      40,
    ],
    [
      'rates in an empty bin',
      { ...curve(), bins: curve().bins.map((b, i) => (i === 0 ? { ...b, meanPredicted: 0.05, observedRate: 0 } : b)) },
      40,
    ],
    ['an ECE above 1', { ...curve(), ece: 2 }, 40],
  ])('a curve with %s is refused (400 VALIDATION_FAILED), nothing stored', async (_what, calibration, n) => {
    const { status, body } = await post(calibration, n);
    expect(`${status} ${body.error?.code}`).toBe('400 VALIDATION_FAILED');
    expect(await c.store.listEvaluations(vid)).toEqual([]);
  });

  test('a valid curve is stored and served with the evaluation; a report without one is served without', async () => {
    const { status, body } = await post(curve());
    expect(status).toBe(201);
    expect((body as unknown as EvaluationView).calibration).toEqual(curve());
    const res = await operator(c, 'GET', routes.modelEvaluations(vid));
    const { evaluations } = (await res.json()) as { evaluations: EvaluationView[] };
    expect(evaluations.map((e) => [e.siteId, e.calibration])).toEqual([[site.siteId, curve()]]);

    const plain = await site.request('POST', routes.modelEvaluations(vid), { n: 40, metrics: { auc: 0.9 } });
    expect(plain.status).toBe(201);
    expect('calibration' in ((await plain.json()) as object)).toBe(false);
  });
});
