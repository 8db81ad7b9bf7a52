import {
  deserializeWeights,
  encodeSecaggInput,
  maskRing64,
  ringToBytes64,
  routes,
  SECAGG_HEADER_EXAMPLES,
  type CurrentRound,
  withoutSecaggSections,
  type SecaggStateSection,
} from '@twinfed/shared';
import { enrollTestSite, json, operator, startTestCoordinator, testPlan } from '../__tests__/harness';
import { secaggSite } from './__tests__/secagg-site';

/** A secure federation of `n` enrolled sites whose first round is open (the complete graph: n is small). */
async function secureRound(n: number) {
  const c = await startTestCoordinator();
  const sites = [];
  for (let i = 0; i < n; i++) sites.push(await enrollTestSite(c, `State ${String.fromCharCode(65 + i)}`));
  const plan = testPlan({ privacy: { secureAggregation: true }, rounds: 1, minSites: 2, roundDeadlineSeconds: 60 });
  const fed = await json<{ id: string }>(operator(c, 'POST', routes.federations, { plan }));
  const cur = await json<CurrentRound>(sites[0]!.request('GET', routes.currentRound(fed.id)));
  const hands = sites.map((s) => secaggSite(s, fed.id, cur.round!.baseVersionId));
  const res = await operator(c, 'GET', routes.modelWeights(cur.round!.baseVersionId));
  const base = deserializeWeights(new Uint8Array(await res.arrayBuffer())).data;
  /** The hand site's masked upload of the base weights plus `shift`, from 10 examples. */
  const upload = async (h: (typeof hands)[number], shift: number) => {
    const encoded = encodeSecaggInput({ weights: base.map((w) => w + shift), numExamples: 10 });
    const masked = maskRing64({ ...h.ctx(1), encoded, siteId: h.site.siteId, survivors: await h.survivors(1) });
    return h.postMasked(1, ringToBytes64(masked), { numExamples: SECAGG_HEADER_EXAMPLES, metrics: {} });
  };
  return { c, fid: fed.id, hands, upload };
}

describe('the secure-aggregation state a site reads', () => {
  test("reads that arrive together once U2 is fixed parse U2's share messages once, not once each", async () => {
    const { c, fid, hands } = await secureRound(5);
    try {
      for (const h of hands) expect((await h.share(1)).status).toBe(201);
      const reads = jest.spyOn(c.store, 'listSecaggMessages');
      // Started together: each is still waiting for the store when the others ask.
      const states = await Promise.all(
        hands.map((h) => c.engine.secaggState({ federationId: fid, round: 1, siteId: h.site.siteId })),
      );
      expect(states.map((s) => s.phase)).toEqual(hands.map(() => 'masking'));
      const wholeRound = reads.mock.calls.filter(([, , kind, siteIds]) => kind === 'shares' && siteIds === undefined);
      expect(wholeRound).toHaveLength(1);
    } finally {
      await c.close();
    }
  });

  test('reads of the sharing phase do not list who shared (only a new share message can complete U2 before its time)', async () => {
    const { c, hands } = await secureRound(4);
    try {
      for (const h of hands.slice(0, 3)) expect((await h.share(1)).status).toBe(201);
      const senders = jest.spyOn(c.store, 'listSecaggSenders');
      for (const h of hands) expect((await h.state(1)).phase).toBe('sharing');
      expect(senders.mock.calls.filter(([, , kind]) => kind === 'shares')).toEqual([]);
      expect((await hands[3]!.share(1)).status).toBe(201); // the last one fixes U2
      expect((await hands[0]!.state(1)).phase).toBe('masking');
    } finally {
      await c.close();
    }
  });

  test('reads that arrive together once the round stopped taking updates read U3 once, not once each', async () => {
    const { c, fid, hands, upload } = await secureRound(5);
    try {
      for (const h of hands) expect((await h.share(1)).status).toBe(201);
      for (const [i, h] of hands.entries()) expect((await upload(h, i / 10)).status).toBe(201);
      // The last of U2 closes the round (read from the store: a state read would read U3 already).
      for (let i = 0; i < 100 && (await c.store.getRound(fid, 1))!.state !== 'aggregating'; i++)
        await new Promise((r) => setTimeout(r, 20));
      const reads = jest.spyOn(c.store, 'listUpdateSummaries');
      const states = await Promise.all(
        hands.map((h) => c.engine.secaggState({ federationId: fid, round: 1, siteId: h.site.siteId })),
      );
      expect(states.map((s) => s.phase)).toEqual(hands.map(() => 'unmasking'));
      expect(reads).toHaveBeenCalledTimes(1);
    } finally {
      await c.close();
    }
  });

  test('the signatures relayed to a site are one list while no other came in (not built again)', async () => {
    const { c, fid, hands, upload } = await secureRound(4);
    try {
      for (const h of hands) expect((await h.share(1)).status).toBe(201);
      for (const [i, h] of hands.entries()) expect((await upload(h, i / 10)).status).toBe(201);
      for (let i = 0; i < 100 && (await c.store.getRound(fid, 1))!.state !== 'aggregating'; i++)
        await new Promise((r) => setTimeout(r, 20));
      const read = async () =>
        (await c.engine.secaggState({ federationId: fid, round: 1, siteId: hands[0]!.site.siteId })).consistency;
      for (const h of hands.slice(0, 2)) expect((await h.consistency(1)).status).toBe(201);
      const first = await read();
      expect(first).toHaveLength(2);
      expect(await read()).toBe(first);
      expect((await hands[2]!.consistency(1)).status).toBe(201);
      const after = await read();
      expect(after).toHaveLength(3);
      expect(after).not.toBe(first);
      expect(after).toEqual(expect.arrayContaining([...first]));
      expect(await read()).toBe(after);
    } finally {
      await c.close();
    }
  });

  test('the answer is the JSON of the state at every phase, in both views, and carries no ETag', async () => {
    const { c, fid, hands, upload } = await secureRound(4);
    const same = async (want: string) => {
      for (const h of hands)
        for (const view of ['full', 'neighbourhood'] as const) {
          const res = await h.site.request('GET', `${routes.secagg(fid, 1)}?view=${view}`);
          expect(res.status).toBe(200);
          expect(res.headers.get('etag')).toBeNull();
          expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
          const body = await res.text();
          const state = await c.engine.secaggState({ federationId: fid, round: 1, siteId: h.site.siteId, view });
          expect(state.phase).toBe(want);
          expect(body).toBe(JSON.stringify(state));
        }
    };
    try {
      await same('sharing');
      for (const h of hands) expect((await h.share(1)).status).toBe(201);
      await same('masking');
      for (const [i, h] of hands.entries()) expect((await upload(h, i / 10)).status).toBe(201);
      for (let i = 0; i < 100 && (await c.store.getRound(fid, 1))!.state !== 'aggregating'; i++)
        await new Promise((r) => setTimeout(r, 20));
      await same('unmasking');
      for (const h of hands.slice(0, 2)) expect((await h.consistency(1)).status).toBe(201);
      await same('unmasking');
      for (const h of hands.slice(2)) expect((await h.consistency(1)).status).toBe(201);
      await same('unmasking'); // every signature relayed
      // Reveals until the sum unmasks (t of them may be enough; a later one is then refused).
      for (const h of hands) if ((await c.store.getRound(fid, 1))!.state === 'aggregating') await h.reveal(1);
      for (let i = 0; i < 100 && (await c.store.getRound(fid, 1))!.state !== 'published'; i++)
        await new Promise((r) => setTimeout(r, 20));
      await same('closed');
    } finally {
      await c.close();
    }
  });

  test('a read naming what the site holds leaves out only the sections fixed by then, and says which', async () => {
    const { c, fid, hands, upload } = await secureRound(4);
    const all = 'directory,survivors,maskedBy';
    const expectAt = async (want: string, fixed: SecaggStateSection[]) => {
      for (const h of hands)
        for (const view of ['full', 'neighbourhood'] as const) {
          const full = await h.state(1, view);
          expect(full.phase).toBe(want);
          expect(full.omitted).toBeUndefined(); // a site that does not ask gets everything
          expect(await h.state(1, view, all)).toEqual(withoutSecaggSections(full, fixed));
          // Each section on its own: only it is left out (once fixed).
          for (const section of ['directory', 'survivors', 'maskedBy'] as const)
            expect(await h.state(1, view, section)).toEqual(
              withoutSecaggSections(
                full,
                fixed.filter((x) => x === section),
              ),
            );
          // The answer's bytes are the engine's state, as for every read.
          const res = await h.site.request('GET', `${routes.secagg(fid, 1)}?view=${view}&have=${all}`);
          const have = new Set(['directory', 'survivors', 'maskedBy'] as const);
          const state = await c.engine.secaggState({ federationId: fid, round: 1, siteId: h.site.siteId, view, have });
          expect(await res.text()).toBe(JSON.stringify(state));
        }
    };
    try {
      await expectAt('sharing', ['directory']);
      for (const h of hands) expect((await h.share(1)).status).toBe(201);
      await expectAt('masking', ['directory', 'survivors']);
      for (const [i, h] of hands.entries()) expect((await upload(h, i / 10)).status).toBe(201);
      for (let i = 0; i < 100 && (await c.store.getRound(fid, 1))!.state !== 'aggregating'; i++)
        await new Promise((r) => setTimeout(r, 20));
      for (const h of hands.slice(0, 2)) expect((await h.consistency(1)).status).toBe(201);
      await expectAt('unmasking', ['directory', 'survivors', 'maskedBy']);
      // Not a section, twice the same, or an empty list: refused as any other query it does not know.
      for (const have of ['keys', 'directory,directory,directory,directory', '', 'directory,'])
        expect((await hands[0]!.site.request('GET', `${routes.secagg(fid, 1)}?have=${have}`)).status).toBe(400);
    } finally {
      await c.close();
    }
  });
});
