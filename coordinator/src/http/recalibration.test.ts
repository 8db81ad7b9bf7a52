import {
  RecalibrationSessionSchema,
  deserializeWeights,
  fitRecalibration,
  fromB64,
  logitHistogram,
  maskContribution,
  recalibrationContext,
  recalibrationStatsLength,
  routes,
  toB64,
  verifyModelVersion,
  type CurrentRound,
  type RecalibrationSession,
} from '@twinfed/shared';
import {
  baseWeights,
  enrollTestSite,
  json,
  operator,
  startTestCoordinator,
  testPlan,
  type TestSite,
} from '../__tests__/harness';

/** Every site uploads `value` in every weight for the open round (all selected: the round closes and publishes). */
async function publishRound(fid: string, sites: TestSite[], value: number): Promise<void> {
  const cur = await json<CurrentRound>(sites[0]!.request('GET', routes.currentRound(fid)));
  const base = await baseWeights(sites[0]!, cur.round!.baseVersionId);
  for (const s of sites) {
    const res = await s.request(
      'POST',
      routes.updates(fid, cur.round!.round),
      s.seal({
        federationId: fid,
        round: cur.round!.round,
        baseVersionId: cur.round!.baseVersionId,
        weights: { layout: base.layout, data: new Float32Array(base.data.length).fill(value) },
        numExamples: 10,
        metrics: {},
      }),
    );
    if (res.status !== 201) throw new Error(`upload ${res.status}`);
  }
}

/** Each site's held-out log-odds and labels (hand-made): neither separable nor one-sided, pooled or alone. */
const HELD_OUT = [
  { z: [1, 1, 1, 1, -2], y: [1, 1, 1, 0, 0] },
  { z: [-1, -1, -1, -1, 2], y: [1, 0, 0, 0, 1] },
  { z: [0.5, 0.5, -0.3], y: [1, 0, 0] },
];

describe('federated recalibration over HTTP', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let sites: TestSite[];

  const session = async (s: TestSite, fid: string): Promise<RecalibrationSession> => {
    const res = await s.request('GET', routes.federationRecalibration(fid));
    expect(res.status).toBe(200);
    return RecalibrationSessionSchema.parse(await res.json());
  };
  const masked = (i: number, fid: string, s: RecalibrationSession) =>
    toB64(
      maskContribution({
        values: logitHistogram(HELD_OUT[i]!.z, HELD_OUT[i]!.y),
        siteId: sites[i]!.siteId,
        boxSecretKey: sites[i]!.identity.box.secretKey,
        cohort: s.cohort.map((m) => ({ siteId: m.siteId, boxPublicKey: fromB64(m.boxPublicKey) })),
        context: recalibrationContext(fid, s.baseVersionId!),
      }),
    );
  const create = async (plan: Record<string, unknown>) =>
    (await json<{ id: string }>(operator(c, 'POST', routes.federations, { plan }))).id;
  const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  beforeAll(async () => {
    c = await startTestCoordinator();
    sites = [await enrollTestSite(c, 'Alpha'), await enrollTestSite(c, 'Beta'), await enrollTestSite(c, 'Gamma')];
  });
  afterAll(async () => c.close());

  test('after the last round every site sends its masked histogram once; the last one gets a signed, recalibrated version fitted on the sum', async () => {
    const fid = await create(testPlan({ rounds: 1, recalibration: { method: 'platt' } }));
    // While the federation runs there is nothing to recalibrate.
    expect((await session(sites[0]!, fid)).state).toBe('waiting');
    const early = await sites[0]!.request('POST', routes.federationRecalibration(fid), {
      masked: toB64(new Uint8Array(recalibrationStatsLength() * 8)),
    });
    expect(early.status).toBe(409);
    expect(await code(early)).toBe('RECALIBRATION_CLOSED');

    await publishRound(fid, sites, 0.2);
    const open = await session(sites[0]!, fid);
    expect(open).toMatchObject({ state: 'open', method: 'platt', baseVersionId: `${fid}.v1`, contributed: [] });
    expect(open.cohort.map((m) => m.siteId)).toEqual(sites.map((s) => s.siteId).sort());
    expect(Date.parse(open.deadlineAt!) - Date.now()).toBeGreaterThan(590_000); // the default 600 s after v1
    // Readers see the same session.
    expect((await json<RecalibrationSession>(operator(c, 'GET', routes.federationRecalibration(fid)))).state).toBe(
      'open',
    );
    const short = await sites[0]!.request('POST', routes.federationRecalibration(fid), {
      masked: toB64(new Uint8Array(16)),
    });
    expect(short.status).toBe(400);

    for (const [i, s] of sites.entries()) {
      const res = await s.request('POST', routes.federationRecalibration(fid), { masked: masked(i, fid, open) });
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({ status: 'accepted', contributed: i + 1, cohort: 3 });
    }
    const fitted = await session(sites[1]!, fid);
    expect(fitted.state).toBe('fitted');
    expect(fitted.versionId).toBe(`${fid}.v1.recalibrated`);
    // The fit on the secure sum is the fit on the pooled rows.
    const pooled = fitRecalibration(
      logitHistogram(
        HELD_OUT.flatMap((h) => h.z),
        HELD_OUT.flatMap((h) => h.y),
      ),
      'platt',
    );
    expect(fitted.params!.a).toBeCloseTo(pooled.a, 5);
    expect(fitted.params!.b).toBeCloseTo(pooled.b, 5);
    expect(fitted.params).toMatchObject({ method: 'platt', baseVersionId: `${fid}.v1`, rows: 13 });

    // A signed version with v1's weights and the parameters, now the federation's head.
    const keys = await json<{ signPublicKey: string }>(fetch(`${c.url}${routes.coordinatorKeys}`));
    const view = await json<{ meta: unknown; signature: string }>(
      sites[2]!.request('GET', routes.model(fitted.versionId!)),
    );
    const meta = verifyModelVersion({ ...view, coordinatorSignPublicKey: fromB64(keys.signPublicKey) });
    expect(meta.recalibration).toEqual(fitted.params);
    expect(meta.parentVersionId).toBe(`${fid}.v1`);
    const weights = await baseWeights(sites[2]!, fitted.versionId!);
    expect(Array.from(weights.data)).toEqual(
      Array.from(
        deserializeWeights((await c.store.getVersionWeights(`${fid}.v1`))!, { expectedLayout: weights.layout }).data,
      ),
    );
    expect((await c.store.getFederation(fid))!.latestVersionId).toBe(fitted.versionId);
    const audit = await c.store.listAudit({ limit: 1000 });
    expect(audit.filter((e) => e.action === 'recalibration.contribute' && e.subject === fid)).toHaveLength(3);

    // The same bytes again: a duplicate; other bytes: refused.
    const again = await sites[0]!.request('POST', routes.federationRecalibration(fid), {
      masked: masked(0, fid, open),
    });
    expect(again.status).toBe(200);
    const other = await sites[0]!.request('POST', routes.federationRecalibration(fid), {
      masked: masked(1, fid, open),
    });
    expect(other.status).toBe(409);
    expect(await code(other)).toBe('ALREADY_EXISTS');
  });

  test('a silent site costs only the deadline: the recalibration expires and takes no more histograms', async () => {
    const fid = await create(testPlan({ rounds: 1, recalibration: { method: 'temperature', deadlineSeconds: 1 } }));
    await publishRound(fid, sites, 0.1);
    const open = await session(sites[0]!, fid);
    expect(open.state).toBe('open');
    expect(
      (await sites[0]!.request('POST', routes.federationRecalibration(fid), { masked: masked(0, fid, open) })).status,
    ).toBe(201);
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(open.deadlineAt!) - Date.now()) + 100));
    const expired = await session(sites[1]!, fid);
    expect(expired).toMatchObject({ state: 'expired', versionId: null, params: null });
    expect(expired.reason).toContain('1 of 3 sites');
    const late = await sites[1]!.request('POST', routes.federationRecalibration(fid), { masked: masked(1, fid, open) });
    expect(late.status).toBe(409);
    expect(await code(late)).toBe('RECALIBRATION_CLOSED');
    expect((await c.store.getFederation(fid))!.latestVersionId).toBe(`${fid}.v1`);
  });

  test('a federation whose plan does not recalibrate has no recalibration (400)', async () => {
    const fid = await create(testPlan({ rounds: 1 }));
    const res = await sites[0]!.request('GET', routes.federationRecalibration(fid));
    expect(res.status).toBe(400);
    expect(await code(res)).toBe('BAD_REQUEST');
  });
});
