import {
  NormalizationViewSchema,
  StatsSessionSchema,
  decodeSecureSum,
  fromB64,
  maskContribution,
  normalizationStatsContext,
  routes,
  toB64,
  type StatsSession,
} from '@twinfed/shared';
import { enrollTestSite, operator, startTestCoordinator, testPlan, type TestSite } from '../__tests__/harness';

/** The secure sum of federated normalisation statistics over real HTTP: the coordinator only ever sees masked vectors and their sum. */
describe('federated normalisation statistics (secure sum) over HTTP', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let sites: TestSite[];
  let fid: string;
  const plan = testPlan({ data: { features: ['a', 'b', 'c'], normalization: 'federated' } });
  // n, Σa, Σb, Σc, Σa², Σb², Σc² of each site's train rows.
  const values = [
    [10, 5, -3, 100.5, 7, 9, 1200],
    [20, 8, 4, 250.25, 11, 12, 3300],
    [5, 1, 0, 40, 1, 2, 400],
  ];

  const session = async (s: TestSite): Promise<StatsSession> => {
    const res = await s.request('GET', routes.federationStats(fid));
    expect(res.status).toBe(200);
    return StatsSessionSchema.parse(await res.json());
  };
  const masked = (s: TestSite, i: number, cohort: StatsSession['cohort']) =>
    toB64(
      maskContribution({
        values: values[i]!,
        siteId: s.siteId,
        boxSecretKey: s.identity.box.secretKey,
        cohort: cohort.map((m) => ({ siteId: m.siteId, boxPublicKey: fromB64(m.boxPublicKey) })),
        context: normalizationStatsContext(fid),
      }),
    );

  beforeAll(async () => {
    c = await startTestCoordinator();
    sites = [await enrollTestSite(c, 'Alpha'), await enrollTestSite(c, 'Beta'), await enrollTestSite(c, 'Gamma')];
    fid = ((await (await operator(c, 'POST', routes.federations, { plan })).json()) as { id: string }).id;
  });
  afterAll(async () => c.close());

  test('each cohort member contributes once; the sum appears only when all have, and decodes to the total', async () => {
    const first = await session(sites[0]!);
    const waiting = await operator(c, 'GET', routes.normalization(fid));
    expect(waiting.status).toBe(200);
    expect(await waiting.json()).toEqual({
      federationId: fid,
      state: 'waiting',
      contributed: 0,
      cohort: 3,
      rows: null,
      mean: null,
      std: null,
    });
    expect(first.cohort.map((m) => m.siteId)).toEqual(sites.map((s) => s.siteId).sort());
    expect(first.length).toBe(7);
    expect(first.sum).toBeNull();
    for (const [i, s] of sites.entries()) {
      const before = await session(s);
      expect(before.sum).toBeNull();
      const res = await s.request('POST', routes.federationStats(fid), { masked: masked(s, i, before.cohort) });
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({ status: 'accepted', contributed: i + 1, cohort: 3 });
    }
    const done = await session(sites[1]!);
    expect(done.contributed).toEqual(first.cohort.map((m) => m.siteId));
    const total = decodeSecureSum(fromB64(done.sum!), { length: done.length, fractionBits: done.fractionBits });
    const want = [35, 14, 1, 390.75, 19, 23, 4900];
    want.forEach((w, k) => expect(total[k]).toBeCloseTo(w, 4));
    // Operators read the pooled z-score statistics (the cohort aggregate) for model export.
    const pooled = NormalizationViewSchema.parse(await (await operator(c, 'GET', routes.normalization(fid))).json());
    expect(pooled).toMatchObject({ state: 'ready', contributed: 3, cohort: 3, rows: 35 });
    const n = 35;
    [14, 1, 390.75].forEach((sx, j) => {
      const mean = sx / n;
      expect(pooled.mean![j]).toBeCloseTo(mean, 5);
      expect(pooled.std![j]).toBeCloseTo(Math.sqrt(Math.max(0, [19, 23, 4900][j]! - n * mean * mean) / (n - 1)), 5);
    });
    // What the coordinator stored is masked: no stored vector decodes to its site's values.
    for (const stored of await c.store.listStatsContributions(fid)) {
      const i = sites.findIndex((s) => s.siteId === stored.siteId);
      const seen = decodeSecureSum(stored.masked, { length: 7 });
      expect(seen.some((v, k) => Math.abs(v - values[i]![k]!) > 1e6)).toBe(true);
    }
  });

  test('a retry with the same bytes is a duplicate; other bytes are refused and the first kept', async () => {
    const s = sites[0]!;
    const cohort = (await session(s)).cohort;
    const again = await s.request('POST', routes.federationStats(fid), { masked: masked(s, 0, cohort) });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'duplicate', contributed: 3 });
    const other = await s.request('POST', routes.federationStats(fid), { masked: masked(s, 1, cohort) });
    expect(other.status).toBe(409);
  });

  test('a late site not yet selected neither reads nor contributes; bad lengths, plans and federations are refused', async () => {
    // (Once a round selects it, it reads the sum but still cannot contribute: membership.test.)
    const late = await enrollTestSite(c, 'Late');
    expect((await late.request('GET', routes.federationStats(fid))).status).toBe(403);
    const refused = await late.request('POST', routes.federationStats(fid), { masked: toB64(new Uint8Array(56)) });
    expect(refused.status).toBe(403);
    const short = await sites[2]!.request('POST', routes.federationStats(fid), { masked: toB64(new Uint8Array(16)) });
    expect(short.status).toBe(400);
    const perSite = (
      (await (await operator(c, 'POST', routes.federations, { plan: testPlan() })).json()) as { id: string }
    ).id;
    expect((await sites[0]!.request('GET', routes.federationStats(perSite))).status).toBe(400);
    expect((await sites[0]!.request('GET', routes.federationStats('fed-nope'))).status).toBe(404);
    expect((await operator(c, 'GET', routes.federationStats(fid))).status).toBe(403);
    expect((await operator(c, 'GET', routes.normalization(perSite))).status).toBe(400);
    expect((await sites[0]!.request('GET', routes.normalization(fid))).status).toBe(403);
  });

  test('the cohort rule of secure aggregation: a statistics cohort under 3 sites, or under minSites, never sums', async () => {
    const small = await startTestCoordinator();
    try {
      const pair = [await enrollTestSite(small, 'One'), await enrollTestSite(small, 'Two')];
      const two = ((await (await operator(small, 'POST', routes.federations, { plan })).json()) as { id: string }).id;
      const third = await enrollTestSite(small, 'Three');
      const big = (
        (await (
          await operator(small, 'POST', routes.federations, {
            plan: testPlan({ minSites: 4, data: { features: ['a', 'b', 'c'], normalization: 'federated' } }),
          })
        ).json()) as { id: string }
      ).id;
      for (const [f, members] of [
        [two, pair],
        [big, [...pair, third]],
      ] as const) {
        const cohort = StatsSessionSchema.parse(
          await (await members[0]!.request('GET', routes.federationStats(f))).json(),
        ).cohort;
        expect(cohort).toHaveLength(members.length);
        for (const [i, s] of members.entries()) {
          const body = toB64(
            maskContribution({
              values: values[i]!,
              siteId: s.siteId,
              boxSecretKey: s.identity.box.secretKey,
              cohort: cohort.map((m) => ({ siteId: m.siteId, boxPublicKey: fromB64(m.boxPublicKey) })),
              context: normalizationStatsContext(f),
            }),
          );
          const res = await s.request('POST', routes.federationStats(f), { masked: body });
          expect(res.status).toBe(409);
          expect(((await res.json()) as { error: { code: string } }).error.code).toBe('SECAGG_COHORT_TOO_SMALL');
        }
        expect(await small.store.listStatsContributions(f)).toEqual([]);
      }
    } finally {
      await small.close();
    }
  });
});
