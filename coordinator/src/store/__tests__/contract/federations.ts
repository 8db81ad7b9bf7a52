/** Contract: federations and the round compare-and-set. */
import { describe, expect, test } from '@jest/globals';
import { DEFAULT_STUDY_ID } from '@twinfed/shared';
import { bytes, federation, type HarnessRef, round, seedFederation, t } from './fixtures';

export function federationContract(h: HarnessRef): void {
  describe('federations', () => {
    test('creates with defaults, round-trips the plan and lists in creation order', async () => {
      const created = await h.store.createFederation(federation('fed-b', t(5)));
      expect(created).toEqual({
        ...federation('fed-b', t(5)),
        studyId: DEFAULT_STUDY_ID,
        state: 'running',
        updatedAt: t(5),
        currentRound: 0,
        latestVersionId: null,
      });
      await h.store.createFederation({
        ...federation('fed-a', t(1)),
        state: 'stopped',
        currentRound: 4,
        updatedAt: t(2),
      });
      await expect(h.store.createFederation(federation('fed-b'))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      const s = await h.again();
      expect(await s.getFederation('fed-b')).toEqual(created);
      expect(await s.getFederation('fed-a')).toMatchObject({ state: 'stopped', currentRound: 4, updatedAt: t(2) });
      expect(await s.getFederation('nope')).toBeNull();
      expect((await s.listFederations()).map((f) => f.id)).toEqual(['fed-a', 'fed-b']);
    });

    test('patches only the given fields', async () => {
      const before = await h.store.createFederation(federation('fed-1'));
      const patched = await h.store.updateFederation('fed-1', { currentRound: 2, updatedAt: t(50), state: undefined });
      expect(patched).toEqual({ ...before, currentRound: 2, updatedAt: t(50) });
      const stamped = await h.store.updateFederation('fed-1', { latestVersionId: 'v2', state: 'completed' });
      expect(stamped).toMatchObject({ currentRound: 2, latestVersionId: 'v2', state: 'completed' });
      expect(stamped?.updatedAt).not.toBe(t(50));
      expect(new Date(stamped?.updatedAt ?? '').toISOString()).toBe(stamped?.updatedAt);
      expect(await (await h.again()).getFederation('fed-1')).toEqual(stamped);
      expect(await h.store.updateFederation('nope', { currentRound: 1 })).toBeNull();
    });
  });

  describe('plan amendment', () => {
    const amended = (id: string) => ({
      id,
      name: 'renamed',
      plan: { model: { kind: 'logreg', features: 4 }, rounds: 9 },
      updatedAt: t(70),
    });
    const entry = (subject: string) => ({
      at: t(70),
      actor: 'operator:ops',
      action: 'federation.plan_amended',
      subject,
      detail: {},
    });
    const amendments = async () =>
      (await h.store.listAudit({ limit: 100 }))
        .filter((e) => e.action === 'federation.plan_amended')
        .map((e) => e.subject);

    test('replaces the name and plan of a federation that has not started, with its audit entry', async () => {
      const before = await h.store.createFederation(federation('fed-1'));
      const result = await h.store.amendFederationPlan(amended('fed-1'), entry('fed-1'));
      const after = { ...before, name: 'renamed', plan: amended('fed-1').plan, updatedAt: t(70) };
      expect(result).toEqual({ status: 'amended', federation: after });
      const s = await h.again();
      expect(await s.getFederation('fed-1')).toEqual(after);
      expect(await amendments()).toEqual(['fed-1']);
    });

    test('refuses an unknown, ended or started federation and writes nothing', async () => {
      expect(await h.store.amendFederationPlan(amended('nope'), entry('nope'))).toEqual({ status: 'unknown' });
      await h.store.createFederation({ ...federation('stopped'), state: 'stopped' });
      expect(await h.store.amendFederationPlan(amended('stopped'), entry('stopped'))).toEqual({
        status: 'not-running',
      });
      await h.store.createFederation({ ...federation('at-round-1'), currentRound: 1 });
      await h.store.createFederation({ ...federation('has-v0'), latestVersionId: 'has-v0.v0' });
      await seedFederation(h.store, 'has-round', 1);
      await h.store.createFederation(federation('has-stats'));
      await h.store.putStatsContribution({
        federationId: 'has-stats',
        siteId: 'site-a',
        masked: bytes(8),
        createdAt: t(5),
      });
      for (const id of ['at-round-1', 'has-v0', 'has-round', 'has-stats'])
        expect(await h.store.amendFederationPlan(amended(id), entry(id))).toEqual({ status: 'started' });
      const s = await h.again();
      for (const id of ['stopped', 'at-round-1', 'has-v0', 'has-round', 'has-stats'])
        expect(await s.getFederation(id)).toMatchObject({ name: `federation ${id}`, plan: federation(id).plan });
      expect(await amendments()).toEqual([]);
    });
  });

  describe('rounds', () => {
    test('creates with defaults, rejects unknown federations and duplicates, lists by number', async () => {
      await h.store.createFederation(federation('fed-1'));
      const r3 = await h.store.createRound(round('fed-1', 3));
      expect(r3).toEqual({ ...round('fed-1', 3), state: 'open', closedAt: null, failureReason: null, versionId: null });
      await h.store.createRound(round('fed-1', 1, { state: 'collecting' }));
      await h.store.createRound(round('fed-1', 2));
      await expect(h.store.createRound(round('fed-1', 2))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      await expect(h.store.createRound(round('nope', 1))).rejects.toMatchObject({ code: 'UNKNOWN_FEDERATION' });
      const s = await h.again();
      expect(await s.getRound('fed-1', 3)).toEqual(r3);
      expect((await s.getRound('fed-1', 1))?.state).toBe('collecting');
      expect(await s.getRound('fed-1', 9)).toBeNull();
      expect((await s.listRounds('fed-1')).map((r) => r.round)).toEqual([1, 2, 3]);
      expect(await s.listRounds('nope')).toEqual([]);
    });

    test('transitions only from an expected state (compare-and-set)', async () => {
      await seedFederation(h.store, 'fed-1', 1);
      const moved = await h.store.transitionRound({
        federationId: 'fed-1',
        round: 1,
        from: ['open'],
        to: 'collecting',
      });
      expect(moved?.state).toBe('collecting');
      expect(
        await h.store.transitionRound({ federationId: 'fed-1', round: 1, from: ['open'], to: 'aggregating' }),
      ).toBeNull();
      expect(
        await h.store.transitionRound({ federationId: 'fed-1', round: 7, from: ['open'], to: 'collecting' }),
      ).toBeNull();
      const failed = await h.store.transitionRound({
        federationId: 'fed-1',
        round: 1,
        from: ['open', 'collecting'],
        to: 'failed',
        patch: { closedAt: t(160), failureReason: 'deadline: 1 of 2 answered', versionId: undefined },
      });
      expect(failed).toEqual({
        ...round('fed-1', 1),
        state: 'failed',
        closedAt: t(160),
        failureReason: 'deadline: 1 of 2 answered',
        versionId: null,
      });
      expect(await (await h.again()).getRound('fed-1', 1)).toEqual(failed);
    });

    test('patches deadline, selection and client config during a transition', async () => {
      await seedFederation(h.store, 'fed-1', 1);
      const next = await h.store.transitionRound({
        federationId: 'fed-1',
        round: 1,
        from: ['open'],
        to: 'collecting',
        patch: { deadlineAt: t(999), selectedSiteIds: ['site-c'], clientConfig: { epochs: 3 } },
      });
      expect(next).toMatchObject({ deadlineAt: t(999), selectedSiteIds: ['site-c'], clientConfig: { epochs: 3 } });
      expect(await h.store.getRound('fed-1', 1)).toEqual(next);
    });

    test('concurrent transitions from the same state: exactly one wins', async () => {
      await seedFederation(h.store, 'fed-1', 1);
      const results = await Promise.all([
        h.store.transitionRound({ federationId: 'fed-1', round: 1, from: ['open'], to: 'aggregating' }),
        h.store.transitionRound({
          federationId: 'fed-1',
          round: 1,
          from: ['open'],
          to: 'failed',
          patch: { failureReason: 'x' },
        }),
        h.store.transitionRound({ federationId: 'fed-1', round: 1, from: ['open'], to: 'collecting' }),
      ]);
      const winners = results.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      expect((await h.store.getRound('fed-1', 1))?.state).toBe(winners[0]?.state);
    });
  });
}
