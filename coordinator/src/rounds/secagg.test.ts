import {
  PROTOCOL_VERSION,
  deserializeWeights,
  fromB64,
  maskKeyPair,
  maskUpdate,
  openShares,
  ringToBytes64,
  routes,
  sealMaskedUpdate,
  secaggThreshold,
  selfMaskCommitment,
  selfMaskSeed,
  shareSecrets,
  toB64,
  type CurrentRound,
  type SecaggState,
  type WeightSet,
} from '@twinfed/shared';
import { enrollTestSite, operator, startTestCoordinator, testPlan, type TestSite } from '../testing/harness';

type Coord = Awaited<ReturnType<typeof startTestCoordinator>>;

const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;

/** A site following the secure-aggregation protocol by hand (the site client does the same in production). */
function secureSite(site: TestSite, fid: string) {
  const ctx = (round: number) => ({ boxSecretKey: site.identity.box.secretKey, federationId: fid, round });
  const state = (round: number) => json<SecaggState>(site.request('GET', routes.secagg(fid, round)));
  return {
    site,
    state,
    async share(round: number): Promise<Response> {
      const s = await state(round);
      const cohort = s.cohort.map((m) => ({ siteId: m.siteId, boxPublicKey: fromB64(m.boxPublicKey) }));
      const shares = await shareSecrets({ ...ctx(round), siteId: site.siteId, cohort, threshold: s.threshold });
      return site.request('POST', routes.secaggShares(fid, round), { maskPublicKey: toB64(maskKeyPair(ctx(round)).publicKey), shares });
    },
    async upload(round: number, base: string, weights: WeightSet, numExamples: number): Promise<Response> {
      const s = await state(round);
      const survivors = (s.survivors ?? []).map((m) => ({ siteId: m.siteId, boxPublicKey: fromB64(m.maskPublicKey) }));
      const values = Float64Array.from(weights.data, (w) => w * numExamples);
      const masked = survivors.some((m) => m.siteId === site.siteId) ? ringToBytes64(maskUpdate({ ...ctx(round), values, siteId: site.siteId, survivors })) : new Uint8Array(weights.data.length * 8);
      const commitment = selfMaskCommitment({ seed: selfMaskSeed(ctx(round)), siteId: site.siteId, federationId: fid, round });
      const envelope = sealMaskedUpdate({
        header: { protocol: PROTOCOL_VERSION, federationId: fid, round, siteId: site.siteId, baseVersion: base, numExamples, metrics: {}, sentAt: new Date().toISOString(), secagg: { commitment } },
        masked,
        identity: site.identity,
        coordinatorBoxPublicKey: site.coordinatorBoxPublicKey,
      });
      return site.request('POST', routes.updates(fid, round), envelope);
    },
    async reveal(round: number): Promise<Response> {
      const s = await state(round);
      const u3 = s.maskedBy ?? [];
      const dropped = (s.survivors ?? []).map((m) => m.siteId).filter((id) => !u3.includes(id));
      const boxKey = new Map(s.cohort.map((m) => [m.siteId, fromB64(m.boxPublicKey)]));
      const open = (from: string) =>
        openShares({ ...ctx(round), share: { ...s.sharesForMe.find((x) => x.from === from)!, to: site.siteId }, from: { siteId: from, boxPublicKey: boxKey.get(from)! }, siteId: site.siteId });
      return site.request('POST', routes.secaggReveal(fid, round), {
        seedShares: u3.map((of) => ({ of, share: toB64(open(of).seed) })),
        maskKeyShares: dropped.map((of) => ({ of, share: toB64(open(of).maskKey) })),
      });
    },
  };
}

async function weightsOf(c: Coord, versionId: string): Promise<Float32Array> {
  const res = await operator(c, 'GET', routes.modelWeights(versionId));
  return deserializeWeights(new Uint8Array(await res.arrayBuffer())).data;
}

async function setup(n: number, plan: Record<string, unknown>, opts: { store?: 'sqlite' } = {}) {
  const c = await startTestCoordinator(opts);
  // Sites reach the coordinator through `at`, so a test can point them at a restarted one.
  const at = { url: c.url, operatorToken: c.operatorToken };
  const sites: TestSite[] = [];
  for (let i = 0; i < n; i++) sites.push(await enrollTestSite(at, `Secure ${String.fromCharCode(65 + i)}`));
  const fed = await json<{ id: string }>(operator(c, 'POST', routes.federations, { plan: testPlan({ privacy: { secureAggregation: true }, ...plan }) }));
  const cur = await json<CurrentRound>(sites[0]!.request('GET', routes.currentRound(fed.id)));
  const base = await weightsOf(c, cur.round!.baseVersionId);
  const layout = [{ name: 'dense/kernel', shape: [3, 1], dtype: 'float32' as const }, { name: 'dense/bias', shape: [1], dtype: 'float32' as const }];
  const trained = (i: number): WeightSet => ({ layout, data: Float32Array.from(base, (w, k) => w + 0.1 * (i + 1) + 0.01 * k) });
  return { c, at, sites: sites.map((s) => secureSite(s, fed.id)), fid: fed.id, baseVersion: cur.round!.baseVersionId, trained };
}

describe('secure aggregation over real HTTP', () => {
  test('four sites: shares, masked updates, reveals; the version is the example-weighted mean and no update is ever readable', async () => {
    const { c, sites, fid, baseVersion, trained } = await setup(4, { rounds: 1, minSites: 2, roundDeadlineSeconds: 60 });
    try {
      const first = await sites[0]!.state(1);
      expect(first).toMatchObject({ phase: 'sharing', threshold: secaggThreshold(4, 2), shared: false, survivors: null, maskedBy: null });
      expect(first.cohort.map((m) => m.siteId).sort()).toEqual(sites.map((s) => s.site.siteId).sort());
      // Uploading before the key shares close is refused with its own code.
      const early = await sites[0]!.upload(1, baseVersion, trained(0), 10);
      expect(early.status).toBe(409);
      expect((await json<{ error: { code: string } }>(early)).error.code).toBe('SECAGG_PHASE');
      for (const s of sites) expect((await s.share(1)).status).toBe(201);
      expect((await sites[0]!.share(1)).status).toBe(200); // again: a restarted site
      expect((await sites[0]!.state(1)).phase).toBe('masking');
      // A plain (unmasked) update is refused in a secure federation.
      const plain = sites[1]!.site.seal({ federationId: fid, round: 1, baseVersion, weights: trained(1), numExamples: 20 });
      expect((await json<{ error: { code: string } }>(sites[1]!.site.request('POST', routes.updates(fid, 1), plain))).error.code).toBe('INVALID_ENVELOPE');
      // Reveals before the round stopped taking updates are refused.
      expect((await sites[0]!.reveal(1)).status).toBe(409);
      const n = [10, 20, 30, 40];
      for (const [i, s] of sites.entries()) expect((await s.upload(1, baseVersion, trained(i), n[i]!)).status).toBe(201);
      const unmasking = await sites[0]!.state(1);
      expect(unmasking.phase).toBe('unmasking');
      expect(unmasking.maskedBy).toHaveLength(4);
      for (const s of sites.slice(0, unmasking.threshold)) expect((await s.reveal(1)).status).toBe(201);
      const fed = await json<{ latestVersionId: string; state: string }>(operator(c, 'GET', routes.federation(fid)));
      expect(fed.latestVersionId).toBe(`${fid}.v1`);
      const got = await weightsOf(c, fed.latestVersionId);
      const want = trained(0).data.map((_, k) => n.reduce((a, ni, i) => a + ni * trained(i).data[k]!, 0) / 100);
      got.forEach((w, k) => expect(w).toBeCloseTo(want[k]!, 5));
      const v1 = await json<{ meta: { contributors: unknown[]; metrics: Record<string, number> } }>(operator(c, 'GET', routes.model(fed.latestVersionId)));
      expect(v1.meta.contributors).toHaveLength(4);
      expect(v1.meta.metrics).toMatchObject({ secureAggregation: 1, sites: 4, examples: 100, secaggDropped: 0 });
      expect((await sites[0]!.state(1)).phase).toBe('closed');
    } finally {
      await c.close();
    }
  });

  test('five sites: one never shares, one shares but never uploads; the three left unmask the sum, the dropped site\'s masks removed with its recovered key', async () => {
    const { c, sites, fid, baseVersion, trained } = await setup(5, { rounds: 1, minSites: 2, roundDeadlineSeconds: 3 });
    try {
      const [a, b, cc, d] = sites as [ReturnType<typeof secureSite>, ReturnType<typeof secureSite>, ReturnType<typeof secureSite>, ReturnType<typeof secureSite>];
      for (const s of [a, b, cc, d]) expect((await s.share(1)).status).toBe(201); // e never shares
      expect((await a.state(1)).phase).toBe('sharing');
      await new Promise((r) => setTimeout(r, 1100)); // a third of the round: the key shares close with those that came
      const masking = await a.state(1);
      expect(masking.phase).toBe('masking');
      expect(masking.survivors!.map((m) => m.siteId).sort()).toEqual([a, b, cc, d].map((s) => s.site.siteId).sort());
      const n = [10, 20, 30];
      for (const [i, s] of [a, b, cc].entries()) expect((await s.upload(1, baseVersion, trained(i), n[i]!)).status).toBe(201); // d never uploads
      await new Promise((r) => setTimeout(r, 2200)); // the round deadline: U3 = a, b, c
      const unmasking = await a.state(1);
      expect(unmasking.phase).toBe('unmasking');
      expect(unmasking.threshold).toBe(3);
      expect((await a.reveal(1)).status).toBe(201);
      expect((await b.reveal(1)).status).toBe(201);
      expect((await a.reveal(1)).status).toBe(200);
      expect((await operator(c, 'GET', routes.federation(fid)).then((r) => r.json()) as { latestVersionId: string }).latestVersionId).toBe(`${fid}.v0`);
      expect((await cc.reveal(1)).status).toBe(201);
      const got = await weightsOf(c, `${fid}.v1`);
      const want = trained(0).data.map((_, k) => n.reduce((acc, ni, i) => acc + ni * trained(i).data[k]!, 0) / 60);
      got.forEach((w, k) => expect(w).toBeCloseTo(want[k]!, 5));
      const v1 = await json<{ meta: { metrics: Record<string, number> } }>(operator(c, 'GET', routes.model(`${fid}.v1`)));
      expect(v1.meta.metrics).toMatchObject({ sites: 3, examples: 60, secaggDropped: 2 });
    } finally {
      await c.close();
    }
  });

  test('a reveal that does not cover exactly U3 and the dropped sites is refused; a round without t reveals fails at its deadline', async () => {
    const { c, sites, fid, baseVersion, trained } = await setup(3, { rounds: 1, minSites: 2, roundDeadlineSeconds: 2 });
    try {
      for (const s of sites) await s.share(1);
      for (const [i, s] of sites.entries()) await s.upload(1, baseVersion, trained(i), 10);
      const bad = await sites[0]!.site.request('POST', routes.secaggReveal(fid, 1), { seedShares: [], maskKeyShares: [] });
      expect(bad.status).toBe(400);
      expect((await sites[0]!.reveal(1)).status).toBe(201); // t = 2: one reveal is not enough
      await new Promise((r) => setTimeout(r, 3200)); // the unmasking deadline: round deadline + half a round
      const rounds = await json<{ rounds: Array<{ state: string; failureReason: string | null }> }>(operator(c, 'GET', routes.rounds(fid)));
      expect(rounds.rounds[0]).toMatchObject({ state: 'failed' });
      expect(rounds.rounds[0]!.failureReason).toMatch(/1 of the 2 reveals secure aggregation needs arrived before the unmasking deadline/);
    } finally {
      await c.close();
    }
  });

  test('a coordinator restarted while it waits for reveals resumes the unmasking from its store', async () => {
    const { c, at, sites, fid, baseVersion, trained } = await setup(3, { rounds: 1, minSites: 2, roundDeadlineSeconds: 60 }, { store: 'sqlite' });
    let restarted: Coord | undefined;
    try {
      for (const s of sites) await s.share(1);
      for (const [i, s] of sites.entries()) await s.upload(1, baseVersion, trained(i), 10 * (i + 1));
      expect((await sites[0]!.reveal(1)).status).toBe(201); // t = 2: still waiting
      await c.close();
      restarted = await startTestCoordinator({ store: 'sqlite', dataDir: c.dataDir });
      at.url = restarted.url;
      const state = await sites[1]!.state(1);
      expect(state).toMatchObject({ phase: 'unmasking', revealed: false });
      expect((await sites[1]!.reveal(1)).status).toBe(201);
      const got = await weightsOf(restarted, `${fid}.v1`);
      const want = trained(0).data.map((_, k) => [10, 20, 30].reduce((a, ni, i) => a + ni * trained(i).data[k]!, 0) / 60);
      got.forEach((w, k) => expect(w).toBeCloseTo(want[k]!, 5));
    } finally {
      await restarted?.close();
      await c.close().catch(() => undefined);
    }
  });

  test('a coordinator that was down past the unmasking deadline gives the sites a grace period to reveal, as it does for uploads', async () => {
    const { c, at, sites, fid, baseVersion, trained } = await setup(3, { rounds: 1, minSites: 2, roundDeadlineSeconds: 10 }, { store: 'sqlite' });
    let restarted: Coord | undefined;
    try {
      for (const s of sites) await s.share(1);
      for (const [i, s] of sites.entries()) await s.upload(1, baseVersion, trained(i), 10 * (i + 1));
      await c.close();
      // Back 60 s later: the round's unmasking deadline (deadline + 5 s) passed while nobody could reveal.
      restarted = await startTestCoordinator({ store: 'sqlite', dataDir: c.dataDir, now: () => Date.now() + 60_000 });
      at.url = restarted.url;
      expect((await sites[0]!.state(1)).phase).toBe('unmasking');
      expect((await sites[0]!.reveal(1)).status).toBe(201);
      expect((await sites[1]!.reveal(1)).status).toBe(201);
      const fed = await json<{ latestVersionId: string }>(operator(restarted, 'GET', routes.federation(fid)));
      expect(fed.latestVersionId).toBe(`${fid}.v1`);
    } finally {
      await restarted?.close();
      await c.close().catch(() => undefined);
    }
  });
});
