/** Contract: atomic publication, the model registry, evaluations. */
import { describe, expect, test } from '@jest/globals';
import type { Store } from '../../types';
import { bytes, evaluation, type HarnessRef, seedFederation, t, version } from './fixtures';

/** Federation fed-1 with initial version v0 (strategy state [1,2,3]) and round 1 moved to `state`. */
async function publishedBase(store: Store, state: 'collecting' | 'aggregating' = 'aggregating'): Promise<void> {
  await seedFederation(store, 'fed-1', 1);
  await store.publishVersion({ version: version('v0', 'fed-1', 0), weights: bytes(32, 0), strategyState: bytes(3, 1) });
  await store.transitionRound({ federationId: 'fed-1', round: 1, from: ['open'], to: state });
}

async function snapshot(store: Store) {
  return {
    federation: await store.getFederation('fed-1'),
    round: await store.getRound('fed-1', 1),
    versions: await store.listVersions(),
    strategy: await store.getStrategyState('fed-1'),
  };
}

export function versionContract(h: HarnessRef): void {
  describe('publishVersion', () => {
    test('publishes an initial version: weights, strategy state, federation pointer', async () => {
      await seedFederation(h.store, 'fed-1', 0);
      const v0 = version('v0', 'fed-1', 0);
      expect(
        await h.store.publishVersion({ version: v0, weights: bytes(4096, 5), strategyState: bytes(16, 2) }),
      ).toEqual(v0);
      const s = await h.again();
      expect(await s.getVersion('v0')).toEqual(v0);
      expect(await s.getVersionWeights('v0')).toEqual(bytes(4096, 5));
      expect(await s.getStrategyState('fed-1')).toEqual(bytes(16, 2));
      expect(await s.getFederation('fed-1')).toMatchObject({
        latestVersionId: 'v0',
        updatedAt: v0.createdAt,
        currentRound: 0,
      });
      expect(await s.latestVersion('fed-1')).toEqual(v0);
    });

    test('moves the round to published and patches the federation in the same step', async () => {
      await publishedBase(h.store);
      const v1 = version('v1', 'fed-1', 1, 'v0');
      const out = await h.store.publishVersion({
        version: v1,
        weights: bytes(32, 1),
        strategyState: bytes(3, 9),
        round: { federationId: 'fed-1', round: 1, from: ['aggregating'] },
        federationPatch: { currentRound: 1, updatedAt: t(777) },
      });
      expect(out).toEqual(v1);
      const s = await h.again();
      expect(await s.getRound('fed-1', 1)).toMatchObject({
        state: 'published',
        versionId: 'v1',
        closedAt: v1.createdAt,
      });
      expect(await s.getFederation('fed-1')).toMatchObject({
        latestVersionId: 'v1',
        currentRound: 1,
        updatedAt: t(777),
      });
      expect(await s.getStrategyState('fed-1')).toEqual(bytes(3, 9));
      expect(await s.latestVersion('fed-1')).toEqual(v1);
      expect((await s.listVersions({ federationId: 'fed-1' })).map((v) => v.id)).toEqual(['v0', 'v1']);
    });

    test('keeps an existing closedAt of the round', async () => {
      await publishedBase(h.store, 'collecting');
      await h.store.transitionRound({
        federationId: 'fed-1',
        round: 1,
        from: ['collecting'],
        to: 'aggregating',
        patch: { closedAt: t(150) },
      });
      await h.store.publishVersion({
        version: version('v1', 'fed-1', 1, 'v0'),
        weights: bytes(8),
        round: { federationId: 'fed-1', round: 1, from: ['aggregating'] },
      });
      expect((await h.store.getRound('fed-1', 1))?.closedAt).toBe(t(150));
    });

    test('writes nothing when the round CAS fails', async () => {
      await publishedBase(h.store, 'collecting');
      const before = await snapshot(h.store);
      const out = await h.store.publishVersion({
        version: version('v1', 'fed-1', 1, 'v0'),
        weights: bytes(32, 1),
        strategyState: bytes(3, 9),
        round: { federationId: 'fed-1', round: 1, from: ['aggregating'] },
        federationPatch: { currentRound: 1, state: 'completed' },
      });
      expect(out).toBeNull();
      const s = await h.again();
      expect(await snapshot(s)).toEqual(before);
      expect(await s.getVersion('v1')).toBeNull();
      expect(await s.getVersionWeights('v1')).toBeNull();
      const missing = { federationId: 'fed-1', round: 5, from: ['aggregating' as const] };
      expect(
        await s.publishVersion({ version: version('v5', 'fed-1', 5), weights: bytes(8), round: missing }),
      ).toBeNull();
      expect(await snapshot(s)).toEqual(before);
    });

    test('concurrent publications for one round: exactly one wins', async () => {
      await publishedBase(h.store);
      const round = { federationId: 'fed-1', round: 1, from: ['aggregating' as const] };
      const results = await Promise.all(
        ['v1a', 'v1b', 'v1c'].map((id) =>
          h.store.publishVersion({ version: version(id, 'fed-1', 1, 'v0'), weights: bytes(8), round }),
        ),
      );
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      expect((await h.store.listVersions()).map((v) => v.id)).toEqual(['v0', winners[0]?.id]);
      expect((await h.store.getRound('fed-1', 1))?.versionId).toBe(winners[0]?.id);
    });

    test('rejects a duplicate version id or an unknown federation, writing nothing', async () => {
      await publishedBase(h.store);
      const before = await snapshot(h.store);
      await expect(
        h.store.publishVersion({
          version: { ...version('v0', 'fed-1', 1), signature: 'other' },
          weights: bytes(8),
          strategyState: null,
          round: { federationId: 'fed-1', round: 1, from: ['aggregating'] },
        }),
      ).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      await expect(
        h.store.publishVersion({ version: version('vx', 'nope', 0), weights: bytes(8) }),
      ).rejects.toMatchObject({
        code: 'UNKNOWN_FEDERATION',
      });
      expect(await snapshot(h.store)).toEqual(before);
    });

    test('strategy state: null deletes, undefined keeps', async () => {
      await publishedBase(h.store);
      await h.store.publishVersion({ version: version('v1', 'fed-1', 1, 'v0'), weights: bytes(8) });
      expect(await h.store.getStrategyState('fed-1')).toEqual(bytes(3, 1));
      await h.store.publishVersion({
        version: version('v2', 'fed-1', 2, 'v1'),
        weights: bytes(8),
        strategyState: null,
      });
      expect(await (await h.again()).getStrategyState('fed-1')).toBeNull();
    });
  });

  describe('registry reads and evaluations', () => {
    test('lists versions in publication order across federations; unknown ids are null', async () => {
      await seedFederation(h.store, 'fed-1', 0);
      await seedFederation(h.store, 'fed-2', 0);
      await h.store.publishVersion({ version: version('z', 'fed-2', 0), weights: bytes(8) });
      await h.store.publishVersion({ version: version('b', 'fed-1', 0), weights: bytes(8) });
      await h.store.publishVersion({ version: version('a', 'fed-1', 1, 'b'), weights: bytes(8) });
      const s = await h.again();
      expect((await s.listVersions()).map((v) => v.id)).toEqual(['z', 'b', 'a']);
      expect((await s.listVersions({ federationId: 'fed-1' })).map((v) => v.id)).toEqual(['b', 'a']);
      expect((await s.latestVersion('fed-1'))?.id).toBe('a');
      expect(await s.latestVersion('nope')).toBeNull();
      expect(await s.getVersion('nope')).toBeNull();
      expect(await s.getVersionWeights('nope')).toBeNull();
      expect(await s.getStrategyState('fed-1')).toBeNull();
    });

    test("weights read again are equal, and each read is the caller's own copy", async () => {
      await seedFederation(h.store, 'fed-1', 0);
      await h.store.publishVersion({ version: version('v0', 'fed-1', 0), weights: bytes(64, 3) });
      const first = (await h.store.getVersionWeights('v0'))!;
      first.fill(0);
      expect(await h.store.getVersionWeights('v0')).toEqual(bytes(64, 3));
      const second = (await h.store.getVersionWeights('v0'))!;
      second[0] = 99;
      expect(await h.store.getVersionWeights('v0')).toEqual(bytes(64, 3));
    });

    test('upserts evaluations per (version, site) and lists them by site', async () => {
      await seedFederation(h.store, 'fed-1', 0);
      await h.store.publishVersion({ version: version('v0', 'fed-1', 0), weights: bytes(8) });
      expect(await h.store.putEvaluation(evaluation('v0', 'site-b', 0.7))).toEqual(evaluation('v0', 'site-b', 0.7));
      await h.store.putEvaluation(evaluation('v0', 'site-a', 0.6));
      await h.store.putEvaluation({ ...evaluation('v0', 'site-b', 0.9), n: 70 });
      await expect(h.store.putEvaluation(evaluation('nope', 'site-a'))).rejects.toMatchObject({
        code: 'UNKNOWN_MODEL_VERSION',
      });
      const s = await h.again();
      expect(await s.listEvaluations('v0')).toEqual([
        evaluation('v0', 'site-a', 0.6),
        { ...evaluation('v0', 'site-b', 0.9), n: 70 },
      ]);
      expect(await s.listEvaluations('nope')).toEqual([]);
    });

    test('lists the evaluations of a federation in version publication order, then by site', async () => {
      await seedFederation(h.store, 'fed-1', 0);
      await seedFederation(h.store, 'fed-2', 0);
      await h.store.publishVersion({ version: version('b', 'fed-1', 0), weights: bytes(8) });
      await h.store.publishVersion({ version: version('x', 'fed-2', 0), weights: bytes(8) });
      await h.store.publishVersion({ version: version('a', 'fed-1', 1, 'b'), weights: bytes(8) });
      await h.store.putEvaluation(evaluation('a', 'site-a', 0.9));
      await h.store.putEvaluation(evaluation('b', 'site-c', 0.5));
      await h.store.putEvaluation(evaluation('x', 'site-a', 0.1));
      await h.store.putEvaluation(evaluation('b', 'site-a', 0.6));
      const s = await h.again();
      expect(await s.listFederationEvaluations('fed-1')).toEqual([
        evaluation('b', 'site-a', 0.6),
        evaluation('b', 'site-c', 0.5),
        evaluation('a', 'site-a', 0.9),
      ]);
      expect(await s.listFederationEvaluations('fed-2')).toEqual([evaluation('x', 'site-a', 0.1)]);
      expect(await s.listFederationEvaluations('nope')).toEqual([]);
    });

    test("keeps an evaluation's calibration, replaces it on upsert and reads it back null when none was given", async () => {
      await seedFederation(h.store, 'fed-1', 0);
      await h.store.publishVersion({ version: version('v0', 'fed-1', 0), weights: bytes(8) });
      const calibration = { ece: 0.05, bins: [{ n: 50, meanPredicted: 0.12, observedRate: 0.1 }] };
      const { calibration: _none, ...plain } = evaluation('v0', 'site-b');
      expect(await h.store.putEvaluation({ ...plain, calibration })).toEqual({ ...plain, calibration });
      await h.store.putEvaluation(plain);
      await h.store.putEvaluation({ ...evaluation('v0', 'site-a'), calibration });
      const s = await h.again();
      expect(await s.listEvaluations('v0')).toEqual([
        { ...plain, siteId: 'site-a', calibration },
        { ...plain, calibration: null },
      ]);
      expect((await s.listFederationEvaluations('fed-1'))[0]?.calibration).toEqual(calibration);
    });

    test('keeps one population report per (version, site), filtered by version or federation', async () => {
      await seedFederation(h.store, 'fed-1', 0);
      await h.store.publishVersion({ version: version('v0', 'fed-1', 0), weights: bytes(8) });
      await h.store.publishVersion({ version: version('v1', 'fed-1', 1, 'v0'), weights: bytes(8) });
      const rep = (versionId: string, siteId: string, high: number) => ({
        versionId,
        federationId: 'fed-1',
        siteId,
        report: { totals: { high } },
        createdAt: t(5),
      });
      await h.store.putPopulationReport(rep('v1', 'site-b', 12));
      await h.store.putPopulationReport(rep('v0', 'site-a', 10));
      await h.store.putPopulationReport(rep('v1', 'site-a', 11));
      expect(await h.store.putPopulationReport(rep('v1', 'site-a', 30))).toEqual(rep('v1', 'site-a', 30));
      await expect(h.store.putPopulationReport(rep('nope', 'site-a', 1))).rejects.toMatchObject({
        code: 'UNKNOWN_MODEL_VERSION',
      });
      const s = await h.again();
      expect(await s.listPopulationReports({ versionId: 'v1' })).toEqual([
        rep('v1', 'site-a', 30),
        rep('v1', 'site-b', 12),
      ]);
      expect(await s.listPopulationReports({ federationId: 'fed-1' })).toEqual([
        rep('v0', 'site-a', 10),
        rep('v1', 'site-a', 30),
        rep('v1', 'site-b', 12),
      ]);
      expect(await s.listPopulationReports({ federationId: 'other' })).toEqual([]);
    });
  });
}
