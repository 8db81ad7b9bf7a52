import {
  SECAGG_HEADER_EXAMPLES,
  deserializeWeights,
  encodeSecaggInput,
  fromB64,
  maskRing64,
  ringToBytes64,
  routes,
  planSecaggGraph,
  PlanSchema,
  secaggCohortDigest,
  secaggGraph,
  secaggNeighbourhoodDigest,
  secaggNeighbourhoodStatement,
  secaggThreshold,
  signHandshake,
  SITE_NAMESPACE,
  toB64,
  neighbourhoodDirectoryDigest,
  verifyNeighbourhoodDirectory,
  verifySecaggConsistencyMac,
  verifySecaggKeys,
  verifySiteDirectoryEntry,
  type CurrentRound,
  type Plan,
  type SecaggPhaseEvent,
  type WeightSet,
  withoutSecaggSections,
} from '@twinfed/shared';
import { io as connect } from 'socket.io-client';
import { enrollTestSite, json, operator, startTestCoordinator, testPlan, type TestSite } from '../__tests__/harness';
import { metricValue } from '../metrics/__tests__/values';
import { secaggSite } from './__tests__/secagg-site';

type Coord = Awaited<ReturnType<typeof startTestCoordinator>>;

/** A site following the secure-aggregation protocol by hand; its masked vector carries the weights, n and the loss. */
function secureSite(site: TestSite, fid: string, baseVersionId: string, plan?: Plan) {
  const hand = secaggSite(site, fid, baseVersionId, plan && { minSites: plan.minSites, graph: planSecaggGraph(plan) });
  return {
    ...hand,
    /** Its masked update: n and the loss inside the vector; `clear` puts them in the header as well (refused). */
    async upload(
      round: number,
      base: string,
      weights: WeightSet,
      numExamples: number,
      opts: { trainLoss?: number; clear?: boolean } = {},
    ): Promise<Response> {
      const survivors = await hand.survivors(round);
      const encoded = encodeSecaggInput({
        weights: weights.data,
        numExamples,
        ...(opts.trainLoss === undefined ? {} : { trainLoss: opts.trainLoss }),
      });
      const masked = survivors.some((m) => m.siteId === site.siteId)
        ? ringToBytes64(maskRing64({ ...hand.ctx(round), encoded, siteId: site.siteId, survivors }))
        : new Uint8Array(encoded.length * 4);
      const clear: { numExamples: number; metrics: Record<string, number> } = opts.clear
        ? { numExamples, metrics: { trainLoss: opts.trainLoss ?? 0 } }
        : { numExamples: SECAGG_HEADER_EXAMPLES, metrics: {} };
      return hand.postMasked(round, masked, clear, base);
    },
  };
}

async function weightsOf(c: Coord, versionId: string): Promise<Float32Array> {
  const res = await operator(c, 'GET', routes.modelWeights(versionId));
  return deserializeWeights(new Uint8Array(await res.arrayBuffer())).data;
}

/**
 * Connects each site to the coordinator's push channel and records, per site, the `secagg:phase` pushes it hears
 * (`'<round> <phase>'`); resolves once every socket is connected.
 */
async function listenToPhases(c: Coord, sites: readonly TestSite[]) {
  const heard = new Map<string, string[]>(sites.map((site) => [site.siteId, []]));
  const sockets = sites.map((site) => {
    const socket = connect(c.url + SITE_NAMESPACE, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      auth: signHandshake({ siteId: site.siteId, signSecretKey: site.identity.sign.secretKey }),
    });
    socket.on('secagg:phase', (e: SecaggPhaseEvent) => heard.get(site.siteId)!.push(`${e.round} ${e.phase}`));
    return socket;
  });
  await Promise.all(sockets.map((x) => new Promise((resolve) => x.once('connect', () => resolve(undefined)))));
  return {
    heard,
    close: () => {
      for (const socket of sockets) socket.disconnect();
    },
  };
}

async function setup(n: number, plan: Record<string, unknown>, opts: { store?: 'sqlite'; now?: () => number } = {}) {
  const c = await startTestCoordinator(opts);
  // Sites reach the coordinator through `at`, so a test can point them at a restarted one.
  const at = { url: c.url, operatorToken: c.operatorToken };
  const sites: TestSite[] = [];
  for (let i = 0; i < n; i++) sites.push(await enrollTestSite(at, `Secure ${String.fromCharCode(65 + i)}`));
  const planInput = testPlan({ privacy: { secureAggregation: true }, ...plan });
  const fed = await json<{ id: string }>(operator(c, 'POST', routes.federations, { plan: planInput }));
  const cur = await json<CurrentRound>(sites[0]!.request('GET', routes.currentRound(fed.id)));
  const base = await weightsOf(c, cur.round!.baseVersionId);
  const layout = [
    { name: 'dense/kernel', shape: [3, 1], dtype: 'float32' as const },
    { name: 'dense/bias', shape: [1], dtype: 'float32' as const },
  ];
  const trained = (i: number): WeightSet => ({
    layout,
    data: Float32Array.from(base, (w, k) => w + 0.1 * (i + 1) + 0.01 * k),
  });
  return {
    c,
    at,
    sites: sites.map((s) => secureSite(s, fed.id, cur.round!.baseVersionId, PlanSchema.parse(planInput))),
    fid: fed.id,
    baseVersion: cur.round!.baseVersionId,
    trained,
  };
}

describe('secure aggregation over real HTTP', () => {
  test('four sites: shares, masked updates, reveals; the version is the example-weighted mean and no update is ever readable', async () => {
    const { c, sites, fid, baseVersion, trained } = await setup(4, {
      rounds: 1,
      minSites: 2,
      roundDeadlineSeconds: 60,
    });
    try {
      const first = await sites[0]!.state(1);
      expect(first).toMatchObject({
        phase: 'sharing',
        threshold: secaggThreshold(4, 2),
        shared: false,
        survivors: null,
        maskedBy: null,
      });
      expect(first.cohort.map((m) => m.siteId).sort()).toEqual(sites.map((s) => s.site.siteId).sort());
      // Uploading before the key shares close is refused with its own code.
      const early = await sites[0]!.upload(1, baseVersion, trained(0), 10);
      expect(early.status).toBe(409);
      expect((await json<{ error: { code: string } }>(early)).error.code).toBe('SECAGG_PHASE');
      for (const s of sites) expect((await s.share(1)).status).toBe(201);
      expect((await sites[0]!.share(1)).status).toBe(200); // again: a restarted site
      expect((await sites[0]!.state(1)).phase).toBe('masking');
      // The complete graph: a site asking for its neighbourhood gets the full view (every site is its neighbour).
      expect(await sites[0]!.state(1, 'neighbourhood')).toEqual(await sites[0]!.state(1));
      // A plain (unmasked) update is refused in a secure federation.
      const plain = sites[1]!.site.seal({
        federationId: fid,
        round: 1,
        baseVersionId: baseVersion,
        weights: trained(1),
        numExamples: 20,
      });
      expect(
        (await json<{ error: { code: string } }>(sites[1]!.site.request('POST', routes.updates(fid, 1), plain))).error
          .code,
      ).toBe('INVALID_ENVELOPE');
      // Reveals before the round stopped taking updates are refused.
      expect((await sites[0]!.reveal(1)).status).toBe(409);
      const n = [10, 20, 30, 40];
      const loss = [0.5, 0.25, 1, 0.75];
      // A masked update with its example count or loss in the clear header is refused: the coordinator must never hold one site's.
      const clear = await sites[0]!.upload(1, baseVersion, trained(0), n[0]!, { trainLoss: loss[0]!, clear: true });
      expect(clear.status).toBe(400);
      expect((await json<{ error: { code: string } }>(clear)).error.code).toBe('INVALID_ENVELOPE');
      for (const [i, s] of sites.entries())
        expect((await s.upload(1, baseVersion, trained(i), n[i]!, { trainLoss: loss[i]! })).status).toBe(201);
      const unmasking = await sites[0]!.state(1);
      expect(unmasking.phase).toBe('unmasking');
      expect(unmasking.maskedBy).toHaveLength(4);
      // What a site checks before it uses anything: the directory entries (coordinator key) and the peers' key signatures.
      for (const m of unmasking.cohort)
        expect(verifySiteDirectoryEntry(m, m.directorySignature, sites[0]!.site.coordinatorSignPublicKey)).toBe(true);
      const signKeys = new Map(unmasking.cohort.map((m) => [m.siteId, fromB64(m.signPublicKey)]));
      for (const m of unmasking.survivors!)
        expect(
          verifySecaggKeys(
            { ...sites[0]!.rd(1), siteId: m.siteId, maskPublicKey: m.maskPublicKey, boxesSha256: m.boxesSha256 },
            m.signature,
            signKeys.get(m.siteId)!,
          ),
        ).toBe(true);
      // Consistency: every site signs the round; a signature over another U3 is refused; the signatures are relayed.
      const wrong = await sites[0]!.consistency(1, unmasking.maskedBy!.slice(1));
      expect(wrong.status).toBe(409);
      expect((await json<{ error: { code: string } }>(wrong)).error.code).toBe('SECAGG_INCONSISTENT');
      // Consistency MACs belong to sparse graphs only: the complete graph's sites check signatures.
      const withMacs = await sites[0]!.site.request('POST', routes.secaggConsistency(fid, 1), {
        signature: toB64(new Uint8Array(64)),
        macs: [{ to: sites[1]!.site.siteId, mac: toB64(new Uint8Array(32)) }],
      });
      expect(withMacs.status).toBe(400);
      expect((await json<{ error: { code: string } }>(withMacs)).error.code).toBe('VALIDATION_FAILED');
      for (const s of sites) expect((await s.consistency(1)).status).toBe(201);
      expect((await sites[0]!.consistency(1)).status).toBe(200);
      expect((await sites[1]!.state(1)).consistency.map((x) => x.siteId).sort()).toEqual(
        sites.map((x) => x.site.siteId).sort(),
      );
      for (const s of sites.slice(0, unmasking.threshold)) expect((await s.reveal(1)).status).toBe(201);
      const fed = await json<{ latestVersionId: string; state: string }>(operator(c, 'GET', routes.federation(fid)));
      expect(fed.latestVersionId).toBe(`${fid}.v1`);
      const got = await weightsOf(c, fed.latestVersionId);
      const want = trained(0).data.map((_, k) => n.reduce((a, ni, i) => a + ni * trained(i).data[k]!, 0) / 100);
      got.forEach((w, k) => expect(w).toBeCloseTo(want[k]!, 5));
      const v1 = await json<{ meta: { contributors: unknown[]; metrics: Record<string, number> } }>(
        operator(c, 'GET', routes.model(fed.latestVersionId)),
      );
      // The signed metadata holds aggregates only: who contributed, Σn and the example-weighted loss — no one site's n or loss.
      expect(v1.meta.contributors).toEqual(
        sites.map((s) => ({ siteId: s.site.siteId })).sort((a, b) => (a.siteId < b.siteId ? -1 : 1)),
      );
      expect(Object.keys(v1.meta.metrics).sort()).toEqual([
        'examples',
        'numExamples',
        'secaggDropped',
        'secureAggregation',
        'sites',
        'trainLoss',
        'updateNorm',
      ]); // updateNorm: of the mean delta
      expect(v1.meta.metrics).toMatchObject({
        secureAggregation: 1,
        sites: 4,
        examples: 100,
        numExamples: 100,
        secaggDropped: 0,
      });
      expect(v1.meta.metrics.trainLoss).toBeCloseTo(n.reduce((a, ni, i) => a + ni * loss[i]!, 0) / 100, 3);
      // Nor does the coordinator's store: every stored header carries the fixed count and no metrics.
      for (const u of await c.store.listUpdateSummaries(fid, 1))
        expect(u).toMatchObject({ numExamples: SECAGG_HEADER_EXAMPLES, metrics: {} });
      expect((await sites[0]!.state(1)).phase).toBe('closed');
      // Each phase of the round was timed once, and the step from the unmasked sum as its aggregation.
      for (const phase of ['share_relay', 'mask_collection', 'unmasking'])
        expect(await metricValue(c.engine.metrics, 'twinfed_secagg_phase_seconds_count', { phase })).toBe(1);
      expect(await metricValue(c.engine.metrics, 'twinfed_aggregation_seconds_count')).toBe(1);
    } finally {
      await c.close();
    }
  });

  test("seven sites (t = 5): one never shares, one shares but never uploads; the five left unmask the sum, the dropped site's masks removed with its recovered key", async () => {
    // A 6 s round: key shares close at 2 s, updates at 6 s, reveals at 9 s — room for seven sites on a loaded machine.
    const { c, sites, fid, baseVersion, trained } = await setup(7, { rounds: 1, minSites: 2, roundDeadlineSeconds: 6 });
    const phase = async (s: ReturnType<typeof secureSite>, want: string) => {
      for (let i = 0; i < 200; i++) {
        const st = await s.state(1);
        if (st.phase === want) return st;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`round 1 never reached ${want}`);
    };
    try {
      const [a, b, cc, d, e, f] = sites;
      const u3 = [a!, b!, cc!, d!, e!];
      for (const s of [...u3, f!]) expect((await s.share(1)).status).toBe(201); // g never shares
      expect((await a!.state(1)).phase).toBe('sharing');
      const masking = await phase(a!, 'masking'); // a third of the round: the key shares close with those that came
      expect(masking.survivors!.map((m) => m.siteId).sort()).toEqual([...u3, f!].map((s) => s.site.siteId).sort());
      const n = [10, 20, 30, 40, 50];
      for (const [i, s] of u3.entries()) expect((await s.upload(1, baseVersion, trained(i), n[i]!)).status).toBe(201); // f never uploads
      const unmasking = await phase(a!, 'unmasking'); // the round deadline: U3 = a…e
      expect(unmasking.threshold).toBe(5);
      for (const s of u3) expect((await s.consistency(1)).status).toBe(201);
      for (const s of u3.slice(0, 4)) expect((await s.reveal(1)).status).toBe(201);
      expect((await a!.reveal(1)).status).toBe(200);
      expect(
        ((await operator(c, 'GET', routes.federation(fid)).then((r) => r.json())) as { latestVersionId: string })
          .latestVersionId,
      ).toBe(`${fid}.v0`);
      expect((await e!.reveal(1)).status).toBe(201);
      const got = await weightsOf(c, `${fid}.v1`);
      const want = trained(0).data.map((_, k) => n.reduce((acc, ni, i) => acc + ni * trained(i).data[k]!, 0) / 150);
      got.forEach((w, k) => expect(w).toBeCloseTo(want[k]!, 5));
      const v1 = await json<{ meta: { metrics: Record<string, number> } }>(
        operator(c, 'GET', routes.model(`${fid}.v1`)),
      );
      expect(v1.meta.metrics).toMatchObject({ sites: 5, examples: 150, secaggDropped: 2 });
    } finally {
      await c.close();
    }
  });

  test('SecAgg+: 24 sites over a sparse graph, 3 dropping after they shared; each shares with its neighbours only and the sum unmasks', async () => {
    const graphOptions = { graph: 'sparse', dropoutFraction: 0.1, corruptFraction: 0.05 } as const;
    const { c, sites, fid, baseVersion, trained } = await setup(24, {
      rounds: 1,
      minSites: 2,
      roundDeadlineSeconds: 20,
      privacy: { secureAggregation: true, secureAggregationGraph: graphOptions },
    });
    const phase = async (want: string) => {
      for (let i = 0; i < 600; i++) {
        const st = await sites[0]!.state(1);
        if (st.phase === want) return st;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`round 1 never reached ${want}`);
    };
    try {
      const first = await sites[0]!.state(1);
      const graph = secaggGraph({
        ...sites[0]!.rd(1),
        cohort: first.cohort.map((m) => m.siteId),
        minSites: 2,
        options: graphOptions,
      });
      expect(graph.kind).toBe('sparse');
      expect(graph.degree).toBeLessThan(23);
      // A box for every cohort member (Bonawitz's message) is refused: the round's graph is sparse.
      const all = await sites[0]!.sharesBody(1);
      expect(all.shares).toHaveLength(graph.degree + 1);
      const complete = await secaggSite(sites[0]!.site, fid, baseVersion, {
        minSites: 2,
        graph: { ...graphOptions, graph: 'complete' },
      }).share(1);
      expect(complete.status).toBe(400);
      for (const s of sites) expect((await s.share(1)).status).toBe(201);
      await phase('masking');
      // Each site is handed only the boxes addressed to it: one from each neighbour and its own; and the relayed
      // digests of every survivor's boxes are the ones its owner signed.
      for (const s of sites) {
        const st = await s.state(1);
        expect(st.sharesForMe.map((b) => b.from).sort()).toEqual(
          [...graph.neighbours(s.site.siteId), s.site.siteId].sort(),
        );
        expect(st.survivors).toHaveLength(24);
        for (const m of st.survivors!) {
          const owner = sites.find((x) => x.site.siteId === m.siteId)!.site;
          const statement = {
            ...s.rd(1),
            siteId: m.siteId,
            maskPublicKey: m.maskPublicKey,
            boxesSha256: m.boxesSha256,
          };
          expect(verifySecaggKeys(statement, m.signature, owner.identity.sign.publicKey)).toBe(true);
        }
      }
      // The neighbourhood view: the same round with only the closed neighbourhood's keys, and every id of S and U2.
      for (const s of sites) {
        const [full, mine] = [await s.state(1, 'full'), await s.state(1, 'neighbourhood')];
        const near = [s.site.siteId, ...graph.neighbours(s.site.siteId)].sort();
        expect(full.view).toBeUndefined();
        expect(mine.view).toBe('neighbourhood');
        expect(mine.cohort).toEqual(full.cohort.filter((m) => near.includes(m.siteId)));
        expect(mine.survivors).toEqual(full.survivors!.filter((m) => near.includes(m.siteId)));
        expect(mine.cohortIds).toEqual(full.cohort.map((m) => m.siteId).sort());
        expect(mine.survivorIds).toEqual(full.survivors!.map((m) => m.siteId).sort());
        // One coordinator signature over exactly the listed entries, for this site and round (the full view has none);
        // signed once: every read of the round carries the same.
        const listed = { ...s.rd(1), siteId: s.site.siteId, entries: mine.cohort };
        const vouch = (entries: typeof mine.cohort, siteId = s.site.siteId) =>
          verifyNeighbourhoodDirectory(
            neighbourhoodDirectoryDigest({ ...listed, siteId, entries }),
            mine.neighbourhoodSignature!,
            s.site.coordinatorSignPublicKey,
          );
        expect(full.neighbourhoodSignature).toBeUndefined();
        expect(vouch(mine.cohort)).toBe(true);
        expect(vouch(mine.cohort.slice(1))).toBe(false);
        expect(vouch(full.cohort)).toBe(false);
        expect(vouch(mine.cohort, sites.find((x) => x !== s)!.site.siteId)).toBe(false);
        expect((await s.state(1, 'neighbourhood')).neighbourhoodSignature).toBe(mine.neighbourhoodSignature);
        // Apart from the neighbourhood's own fields, the two views are the same.
        const own = { cohort: [], survivors: [], view: 0, cohortIds: 0, survivorIds: 0, neighbourhoodSignature: 0 };
        expect({ ...mine, ...own }).toEqual({ ...full, ...own });
        // A site that holds the neighbourhood and U2 from an earlier read gets neither again (U3 is not fixed yet).
        const held = await s.state(1, 'neighbourhood', 'directory,survivors,maskedBy');
        expect(held).toEqual(withoutSecaggSections(mine, ['directory', 'survivors']));
      }
      expect((await sites[0]!.site.request('GET', `${routes.secagg(fid, 1)}?view=everything`)).status).toBe(400);
      const boxes = new Set(
        (await Promise.all(sites.map((s) => s.state(1)))).flatMap((st) => st.sharesForMe.map((b) => b.ciphertext)),
      );
      expect(boxes.size).toBe(24 * (graph.degree + 1)); // no box handed to two sites
      const dropped = new Set([3, 11, 19]);
      const n = sites.map((_, i) => 10 + i);
      for (const [i, s] of sites.entries())
        if (!dropped.has(i)) expect((await s.upload(1, baseVersion, trained(i), n[i]!)).status).toBe(201);
      const unmasking = await phase('unmasking'); // the round deadline: 21 of 24 uploaded
      expect(unmasking.maskedBy).toHaveLength(21);
      const u3 = sites.filter((_, i) => !dropped.has(i));
      // The complete graph's statement (V2) is refused in a sparse round: each site signs its neighbourhood (V3).
      const v2 = await u3[0]!.consistency(1, undefined, 'complete');
      expect(v2.status).toBe(409);
      expect((await json<{ error: { code: string } }>(v2)).error.code).toBe('SECAGG_INCONSISTENT');
      // MACs go exactly to the signer's neighbours in U3, each once: one to a non-neighbour, to itself, twice to
      // one neighbour, to a dropped neighbour or to too few is refused with a stable code, and nothing is stored.
      const me = u3[0]!.site.siteId;
      const nbInU3 = graph.neighbours(me).filter((id) => unmasking.maskedBy!.includes(id));
      const far = unmasking.maskedBy!.find((id) => id !== me && !graph.neighbours(me).includes(id))!;
      const droppedNb = graph.neighbours(me).find((id) => !unmasking.maskedBy!.includes(id));
      const badMacs: Array<(m: Array<{ to: string; mac: string }>) => Array<{ to: string; mac: string }>> = [
        (m) => [{ ...m[0]!, to: far }, ...m.slice(1)],
        (m) => [...m, { ...m[0]!, to: me }],
        (m) => [m[0]!, m[0]!, ...m.slice(2)],
        (m) => m.slice(1),
        ...(droppedNb ? [(m: Array<{ to: string; mac: string }>) => [...m, { ...m[0]!, to: droppedNb }]] : []),
      ];
      for (const bad of badMacs) {
        const res = await u3[0]!.consistency(1, undefined, undefined, bad);
        expect(res.status).toBe(400);
        expect((await json<{ error: { code: string } }>(res)).error.code).toBe('VALIDATION_FAILED');
      }
      expect(nbInU3.length).toBeGreaterThanOrEqual(graph.threshold - 1);
      // `revealing` is pushed to each site once t_g of its own closed neighbourhood signed, not at a global count:
      // the first site's neighbourhood signs first, and only the sites it completes are told.
      const phases = await listenToPhases(
        c,
        sites.map((s) => s.site),
      );
      const told = (id: string) => phases.heard.get(id)!.filter((p) => p.endsWith(' revealing')).length;
      const inU3 = new Set(u3.map((s) => s.site.siteId));
      const x = u3[0]!.site.siteId;
      const early = u3.filter((s) => s.site.siteId === x || graph.neighbours(x).includes(s.site.siteId));
      const ready = (signed: Set<string>) =>
        [...inU3].filter((u) => [u, ...graph.neighbours(u)].filter((id) => signed.has(id)).length >= graph.threshold);
      for (const s of early) expect((await s.consistency(1)).status).toBe(201);
      const expected = ready(new Set(early.map((s) => s.site.siteId)));
      expect(expected).toContain(x);
      expect(expected.length).toBeLessThan(inU3.size);
      for (let i = 0; i < 100 && expected.some((id) => told(id) === 0); i++)
        await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 200));
      expect([...phases.heard.keys()].filter((id) => told(id) > 0).sort()).toEqual(expected.sort());
      for (const s of u3.filter((y) => !early.includes(y))) expect((await s.consistency(1)).status).toBe(201);
      for (let i = 0; i < 100 && [...inU3].some((id) => told(id) === 0); i++)
        await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 200));
      // Every member of U3 told exactly once; the dropped sites never.
      for (const id of phases.heard.keys()) expect([id, told(id)]).toEqual([id, inU3.has(id) ? 1 : 0]);
      phases.close();
      // Each site is relayed only the signatures of itself and its neighbours in U3, each neighbour's with its MAC
      // for this site only (none with its own), and that MAC verifies at this site over the signer's statement.
      const cohortSha256 = secaggCohortDigest(first.cohort.map((m) => m.siteId));
      const boxKey = new Map(first.cohort.map((m) => [m.siteId, fromB64(m.boxPublicKey)]));
      const relayedMacs: string[] = [];
      for (const s of u3) {
        const near = new Set([s.site.siteId, ...graph.neighbours(s.site.siteId)]);
        const relayed = (await s.state(1)).consistency;
        expect(relayed.map((x) => x.siteId).sort()).toEqual(unmasking.maskedBy!.filter((id) => near.has(id)).sort());
        for (const x of relayed) {
          if (x.siteId === s.site.siteId) {
            expect(x.mac).toBeUndefined();
            continue;
          }
          const digest = secaggNeighbourhoodDigest(
            secaggNeighbourhoodStatement({
              ...s.rd(1),
              cohortSha256,
              degree: graph.degree,
              threshold: graph.threshold,
              siteId: x.siteId,
              neighbours: graph.neighbours(x.siteId),
              u2: new Set(unmasking.survivors!.map((m) => m.siteId)),
              u3: new Set(unmasking.maskedBy),
            }),
          );
          const at = { ...s.ctx(1), from: x.siteId, to: s.site.siteId, peerBoxPublicKey: boxKey.get(x.siteId)! };
          expect(verifySecaggConsistencyMac({ ...at, digest, mac: x.mac! })).toBe(true);
          relayedMacs.push(x.mac!);
        }
      }
      // 21 signers' MACs, each relayed once to the one site it is for (all distinct).
      expect(new Set(relayedMacs).size).toBe(relayedMacs.length);
      // The sum unmasks as soon as every secret has t shares from its holders, possibly before all 21 revealed.
      let revealed = 0;
      for (const s of u3) {
        const res = await s.reveal(1);
        if (res.status === 409 && (await s.state(1)).phase === 'closed') break;
        expect(res.status).toBe(201);
        revealed++;
      }
      expect(revealed).toBeGreaterThanOrEqual(graph.threshold);
      await phase('closed');
      const got = await weightsOf(c, `${fid}.v1`);
      const kept = sites.map((_, i) => i).filter((i) => !dropped.has(i));
      const examples = kept.reduce((a, i) => a + n[i]!, 0);
      const want = trained(0).data.map((_, k) => kept.reduce((a, i) => a + n[i]! * trained(i).data[k]!, 0) / examples);
      got.forEach((w, k) => expect(w).toBeCloseTo(want[k]!, 5));
      const v1 = await json<{ meta: { metrics: Record<string, number> } }>(
        operator(c, 'GET', routes.model(`${fid}.v1`)),
      );
      expect(v1.meta.metrics).toMatchObject({ sites: 21, examples, secaggDropped: 3 });
    } finally {
      await c.close();
    }
  });

  test("phase changes are pushed over socket.io to the round's cohort only: masking, unmasking, then revealing once t signed", async () => {
    const { c, at, sites, baseVersion, trained } = await setup(3, { rounds: 1, minSites: 2, roundDeadlineSeconds: 60 });
    const outsider = await enrollTestSite(at, 'Outsider'); // enrolled after round 1 opened: not in its cohort
    const { heard, close } = await listenToPhases(c, [...sites.map((s) => s.site), outsider]);
    try {
      for (const s of sites) expect((await s.share(1)).status).toBe(201);
      for (const [i, s] of sites.entries()) expect((await s.upload(1, baseVersion, trained(i), 10)).status).toBe(201);
      for (const s of sites) expect((await s.consistency(1)).status).toBe(201); // t = 3: the third one
      const want = ['1 masking', '1 unmasking', '1 revealing'];
      for (let i = 0; i < 100 && sites.some((s) => heard.get(s.site.siteId)!.length < want.length); i++)
        await new Promise((r) => setTimeout(r, 50));
      for (const s of sites) expect(heard.get(s.site.siteId)).toEqual(want);
      expect(heard.get(outsider.siteId)).toEqual([]);
    } finally {
      close();
      await c.close();
    }
  });

  test('key shares that arrive together fix U2 once: each site hears `masking` once', async () => {
    // On the durable store the writes wait for one group commit together, then each asks whether U2 is complete.
    const { c, sites } = await setup(8, { rounds: 1, minSites: 2, roundDeadlineSeconds: 60 }, { store: 'sqlite' });
    const { heard, close } = await listenToPhases(
      c,
      sites.map((s) => s.site),
    );
    try {
      const bodies = await Promise.all(sites.map((s) => s.sharesBody(1)));
      const answers = await Promise.all(
        sites.map((s, i) => s.site.request('POST', routes.secaggShares(s.rd(1).federationId, 1), bodies[i])),
      );
      expect(answers.map((r) => r.status)).toEqual(sites.map(() => 201));
      // A push is a hint: give a duplicate time to arrive before concluding there is none.
      for (let i = 0; i < 100 && sites.some((s) => heard.get(s.site.siteId)!.length < 1); i++)
        await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 300));
      for (const s of sites) expect(heard.get(s.site.siteId)).toEqual(['1 masking']);
    } finally {
      close();
      await c.close();
    }
  });

  test("the coordinator checks what it relays: key shares not signed by the sender's enrolled key, and cohorts under three sites, are refused", async () => {
    const { c, sites } = await setup(3, { rounds: 1, minSites: 2, roundDeadlineSeconds: 60 });
    try {
      const [a, b] = sites;
      const forged = await a!.site.request(
        'POST',
        routes.secaggShares(sites[0]!.rd(1).federationId, 1),
        await a!.sharesBody(1, b!.site.identity.sign.secretKey),
      );
      expect(forged.status).toBe(400);
      const refused = (await json<{ error: { code: string; message: string } }>(forged)).error;
      expect(refused.code).toBe('SECAGG_UNTRUSTED_KEY');
      // A site on another secure-aggregation version signs another statement: the refusal names this one.
      expect(refused.message).toContain('twinfed/secagg/v3');
      expect((await a!.state(1)).shared).toBe(false);
    } finally {
      await c.close();
    }
    const two = await setup(2, { rounds: 1, minSites: 2, roundDeadlineSeconds: 60 });
    try {
      await expect(two.sites[0]!.sharesBody(1)).rejects.toMatchObject({ code: 'SECAGG_COHORT_TOO_SMALL' }); // the library refuses to split among two
      const res = await two.sites[0]!.site.request('POST', routes.secaggShares(two.fid, 1), {
        maskPublicKey: toB64(new Uint8Array(32)),
        shares: two.sites.map((s) => ({ to: s.site.siteId, nonce: 'AAAA', ciphertext: 'AAAA' })),
        signature: toB64(new Uint8Array(64)),
      });
      expect(res.status).toBe(409);
      expect((await json<{ error: { code: string } }>(res)).error.code).toBe('SECAGG_COHORT_TOO_SMALL');
    } finally {
      await two.c.close();
    }
  });

  test('key shares whose write is still pending when U2 is fixed without them are refused, not acknowledged as taken', async () => {
    let offset = 0;
    const { c, sites } = await setup(
      4,
      { rounds: 1, minSites: 3, roundDeadlineSeconds: 60 },
      { now: () => Date.now() + offset },
    );
    try {
      const [a, b, cc, d] = sites;
      for (const s of [b!, cc!, d!]) expect((await s.share(1)).status).toBe(201);
      // The store holds site A's share message back (a group commit waiting for an fsync) until U2 is fixed.
      const store = c.store as { putSecaggMessage: (typeof c.store)['putSecaggMessage'] };
      const put = store.putSecaggMessage.bind(store);
      let reached!: () => void;
      const atPut = new Promise<void>((resolve) => (reached = resolve));
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      store.putSecaggMessage = async (m) => {
        if (m.siteId === a!.site.siteId) {
          reached();
          await gate;
        }
        return put(m);
      };
      const late = a!.share(1);
      await atPut;
      offset = 30_000; // past the shares deadline: three of four shared, t = 3, so U2 is fixed on the next read
      expect((await b!.state(1)).survivors?.map((m) => m.siteId).sort()).toEqual(
        [b!, cc!, d!].map((s) => s.site.siteId).sort(),
      );
      release();
      const res = await late;
      expect(res.status).toBe(409);
      expect((await json<{ error: { code: string } }>(res)).error.code).toBe('SECAGG_PHASE');
      expect((await a!.state(1)).shared).toBe(false);
    } finally {
      await c.close();
    }
  });

  test('a reveal that does not cover exactly U3 and the dropped sites is refused; a round without t reveals fails at its deadline', async () => {
    const { c, sites, fid, baseVersion, trained } = await setup(3, { rounds: 1, minSites: 2, roundDeadlineSeconds: 2 });
    try {
      for (const s of sites) await s.share(1);
      for (const [i, s] of sites.entries()) await s.upload(1, baseVersion, trained(i), 10);
      const bad = await sites[0]!.site.request('POST', routes.secaggReveal(fid, 1), {
        seedShares: [],
        maskKeyShares: [],
      });
      expect(bad.status).toBe(400);
      expect((await sites[0]!.reveal(1)).status).toBe(201); // t = 3: one reveal is not enough
      await new Promise((r) => setTimeout(r, 3200)); // the unmasking deadline: round deadline + half a round
      const rounds = await json<{ rounds: Array<{ state: string; failureReason: string | null }> }>(
        operator(c, 'GET', routes.rounds(fid)),
      );
      expect(rounds.rounds[0]).toMatchObject({ state: 'failed' });
      expect(rounds.rounds[0]!.failureReason).toMatch(
        /1 of the 3 reveals secure aggregation needs arrived before the unmasking deadline/,
      );
    } finally {
      await c.close();
    }
  });

  test('a coordinator restarted while it waits for reveals resumes the unmasking from its store', async () => {
    const { c, at, sites, fid, baseVersion, trained } = await setup(
      3,
      { rounds: 1, minSites: 2, roundDeadlineSeconds: 60 },
      { store: 'sqlite' },
    );
    let restarted: Coord | undefined;
    try {
      for (const s of sites) await s.share(1);
      for (const [i, s] of sites.entries()) await s.upload(1, baseVersion, trained(i), 10 * (i + 1));
      expect((await sites[0]!.reveal(1)).status).toBe(201); // t = 3: still waiting
      const before = await sites[1]!.state(1); // from the relay parsed before the restart
      await c.close();
      restarted = await startTestCoordinator({ store: 'sqlite', dataDir: c.dataDir });
      at.url = restarted.url;
      const state = await sites[1]!.state(1);
      expect(state).toMatchObject({ phase: 'unmasking', revealed: false });
      expect(state).toEqual(before); // parsed afresh from the store: the same
      expect((await sites[1]!.reveal(1)).status).toBe(201);
      expect((await sites[2]!.reveal(1)).status).toBe(201);
      const got = await weightsOf(restarted, `${fid}.v1`);
      const want = trained(0).data.map(
        (_, k) => [10, 20, 30].reduce((a, ni, i) => a + ni * trained(i).data[k]!, 0) / 60,
      );
      got.forEach((w, k) => expect(w).toBeCloseTo(want[k]!, 5));
    } finally {
      await restarted?.close();
      await c.close().catch(() => undefined);
    }
  });

  test('a coordinator that was down past the unmasking deadline gives the sites a grace period to reveal, as it does for uploads', async () => {
    const { c, at, sites, fid, baseVersion, trained } = await setup(
      3,
      { rounds: 1, minSites: 2, roundDeadlineSeconds: 10 },
      { store: 'sqlite' },
    );
    let restarted: Coord | undefined;
    try {
      for (const s of sites) await s.share(1);
      for (const [i, s] of sites.entries()) await s.upload(1, baseVersion, trained(i), 10 * (i + 1));
      await c.close();
      // Back 60 s later: the round's unmasking deadline (deadline + 5 s) passed while nobody could reveal.
      restarted = await startTestCoordinator({ store: 'sqlite', dataDir: c.dataDir, now: () => Date.now() + 60_000 });
      at.url = restarted.url;
      expect((await sites[0]!.state(1)).phase).toBe('unmasking');
      for (const s of sites) expect((await s.reveal(1)).status).toBe(201);
      const fed = await json<{ latestVersionId: string }>(operator(restarted, 'GET', routes.federation(fid)));
      expect(fed.latestVersionId).toBe(`${fid}.v1`);
    } finally {
      await restarted?.close();
      await c.close().catch(() => undefined);
    }
  });
});
