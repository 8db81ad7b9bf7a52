import {
  decodeSignedDownload,
  deserializeWeights,
  routes,
  verifyModelVersion,
  type CurrentRound,
  type FederationView,
  type WeightSet,
} from '@twinfed/shared';
import { enrollTestSite, json, operator, startTestCoordinator, testPlan, type TestSite } from '../__tests__/harness';

/**
 * Issue 10, "membership everywhere": a site of the federation learns who else contributed only as a count, unless
 * the plan says `privacy.shareContributorsWithSites`. Operators and researchers still see the full, signed list.
 */
describe('contributors are shown to sites only as counts', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let a: TestSite;
  let b: TestSite;

  beforeAll(async () => {
    c = await startTestCoordinator();
    a = await enrollTestSite(c, 'Alpha');
    b = await enrollTestSite(c, 'Beta');
  });
  afterAll(async () => c.close());

  /** A federation whose round 1 both sites answered: returns it and the version round 1 published. */
  async function roundOne(plan: Record<string, unknown>): Promise<{ fid: string; vid: string }> {
    const fid = (await json<{ id: string }>(operator(c, 'POST', routes.federations, { plan }))).id;
    const cur = await json<CurrentRound>(a.request('GET', routes.currentRound(fid)));
    const base = deserializeWeights(
      new Uint8Array(await (await a.request('GET', routes.modelWeights(cur.round!.baseVersionId))).arrayBuffer()),
    );
    const shifted = (w: WeightSet, by: number): WeightSet => ({ ...w, data: w.data.map((x) => x + by) });
    for (const [i, s] of [a, b].entries()) {
      const bytes = s.seal({
        federationId: fid,
        round: 1,
        baseVersionId: cur.round!.baseVersionId,
        weights: shifted(base, i),
        numExamples: 17 + i,
      });
      expect((await s.request('POST', routes.updates(fid, 1), bytes)).status).toBe(201);
    }
    for (;;) {
      const f = await json<FederationView>(operator(c, 'GET', routes.federation(fid)));
      if (f.latestVersionId?.endsWith('.v1')) return { fid, vid: f.latestVersionId };
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  test('a site fetching a version gets a count-only copy signed by the coordinator; the operator the full list', async () => {
    const { vid } = await roundOne(testPlan());
    const res = await a.request('GET', routes.model(vid));
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain(b.siteId);
    const served = JSON.parse(text) as { meta: Record<string, unknown>; signature: string };
    expect(served.meta.contributors).toBeUndefined();
    expect(served.meta.contributorCount).toBe(2);
    const bytes = new Uint8Array(await (await a.request('GET', routes.modelWeights(vid))).arrayBuffer());
    const meta = verifyModelVersion({
      meta: served.meta,
      signature: served.signature,
      weightsBytes: bytes,
      coordinatorSignPublicKey: a.coordinatorSignPublicKey,
    });
    expect(meta.versionId).toBe(vid);

    const full = await json<{ meta: unknown; signature: string }>(operator(c, 'GET', routes.model(vid)));
    const fullMeta = verifyModelVersion({
      meta: full.meta,
      signature: full.signature,
      weightsBytes: bytes,
      coordinatorSignPublicKey: a.coordinatorSignPublicKey,
    });
    expect('contributors' in fullMeta && fullMeta.contributors).toEqual(
      [
        { siteId: a.siteId, numExamples: 17 },
        { siteId: b.siteId, numExamples: 18 },
      ].sort((x, y) => x.siteId.localeCompare(y.siteId)),
    );
    // Everything else is the very metadata the operator sees.
    const { contributors: _c, ...rest } = full.meta as Record<string, unknown>;
    const { contributorCount: _n, ...siteRest } = served.meta;
    expect(siteRest).toEqual(rest);
  });

  test('the round and federation a site reads name no other site', async () => {
    const { fid } = await roundOne(testPlan({ rounds: 3 }));
    for (const p of [routes.currentRound(fid), routes.federation(fid)]) {
      const text = await (await a.request('GET', p)).text();
      expect(text).not.toContain(b.siteId);
    }
    const cur = await json<CurrentRound>(a.request('GET', routes.currentRound(fid)));
    expect(cur.selected).toBe(true);
    expect(cur.round!.selectedSiteIds).toEqual([a.siteId]);
    expect(cur.round!.selectedCount).toBe(2);
    const rounds = await json<{ rounds: Array<{ selectedSiteIds: string[] }> }>(operator(c, 'GET', routes.rounds(fid)));
    expect(rounds.rounds.at(-1)!.selectedSiteIds).toEqual([a.siteId, b.siteId].sort());
  });

  test('with privacy.shareContributorsWithSites the site gets the full list', async () => {
    const { fid, vid } = await roundOne(testPlan({ rounds: 3, privacy: { shareContributorsWithSites: true } }));
    const served = await json<{ meta: { contributors?: Array<{ siteId: string }> } }>(
      a.request('GET', routes.model(vid)),
    );
    expect(served.meta.contributors?.map((x) => x.siteId).sort()).toEqual([a.siteId, b.siteId].sort());
    const cur = await json<CurrentRound>(a.request('GET', routes.currentRound(fid)));
    expect(cur.round!.selectedSiteIds).toEqual([a.siteId, b.siteId].sort());
  });

  test('the download carries the same count-only signed metadata and the weights it signs, for members only', async () => {
    const { vid } = await roundOne(testPlan());
    const res = await a.request('GET', routes.modelDownload(vid));
    expect(res.status).toBe(200);
    const download = decodeSignedDownload(new Uint8Array(await res.arrayBuffer()));
    const served = await json<{ meta: unknown; signature: string }>(a.request('GET', routes.model(vid)));
    expect({ meta: download.meta, signature: download.signature }).toEqual({
      meta: served.meta,
      signature: served.signature,
    });
    const weights = new Uint8Array(await (await a.request('GET', routes.modelWeights(vid))).arrayBuffer());
    expect(Buffer.from(download.weights).equals(Buffer.from(weights))).toBe(true);
    const meta = verifyModelVersion({
      meta: download.meta,
      signature: download.signature,
      weightsBytes: download.weights,
      coordinatorSignPublicKey: a.coordinatorSignPublicKey,
    });
    expect(meta.versionId).toBe(vid);
    // Last in this file: a site enrolled now is no member of the federations above.
    const outsider = await enrollTestSite(c, 'Gamma');
    expect((await outsider.request('GET', routes.modelDownload(vid))).status).toBe(403);
  });
});
