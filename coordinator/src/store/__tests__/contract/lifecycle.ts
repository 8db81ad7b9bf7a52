/** Contract: audit log, copy isolation, JSON semantics, health and close. */
import { describe, expect, test } from '@jest/globals';
import {
  bytes,
  evaluation,
  federation,
  type HarnessRef,
  round,
  seedFederation,
  site,
  t,
  update,
  version,
} from './fixtures';

export function lifecycleContract(h: HarnessRef): void {
  describe('audit log', () => {
    test('assigns increasing seq and pages by afterSeq, limit and order', async () => {
      const first = await h.store.appendAudit({
        at: t(1),
        actor: 'op',
        action: 'site.revoke',
        subject: 's1',
        detail: { why: 'lost key' },
      });
      expect(first).toEqual({
        seq: first.seq,
        at: t(1),
        actor: 'op',
        action: 'site.revoke',
        subject: 's1',
        detail: { why: 'lost key' },
        prevHash: first.prevHash,
        hash: first.hash,
      });
      for (let i = 2; i <= 5; i++)
        await h.store.appendAudit({ at: t(i), actor: 'op', action: 'a', subject: `s${i}`, detail: { i } });
      const s = await h.again();
      const all = await s.listAudit({ limit: 100 });
      expect(all.map((e) => e.subject)).toEqual(['s1', 's2', 's3', 's4', 's5']);
      expect(all.every((e, i) => i === 0 || e.seq > (all[i - 1]?.seq ?? Infinity))).toBe(true);
      expect(all[0]).toEqual(first);
      const page = await s.listAudit({ limit: 2, afterSeq: all[1]?.seq ?? 0 });
      expect(page.map((e) => e.subject)).toEqual(['s3', 's4']);
      expect((await s.listAudit({ limit: 2, order: 'desc' })).map((e) => e.subject)).toEqual(['s5', 's4']);
      expect(await s.listAudit({ limit: 0 })).toEqual([]);
      const next = await s.appendAudit({ at: t(9), actor: 'op', action: 'a', subject: 's6', detail: {} });
      expect(next.seq).toBeGreaterThan(all[4]?.seq ?? Infinity);
    });
  });

  describe('copy isolation and JSON semantics', () => {
    test('callers cannot change stored records through inputs or outputs', async () => {
      const f = federation('fed-1');
      await h.store.createFederation(f);
      (f.plan as { rounds: number }).rounds = 99;
      const got = await h.store.getFederation('fed-1');
      // A store may hand out a copy, or a deep-frozen value shared between readers (SQLite's plans): then it throws.
      try {
        (got?.plan as { rounds: number }).rounds = 42;
      } catch (e) {
        expect(e).toBeInstanceOf(TypeError);
        expect(Object.isFrozen(got?.plan)).toBe(true);
      }
      expect((await h.store.getFederation('fed-1'))?.plan).toEqual({
        model: { kind: 'logreg', features: 13 },
        rounds: 5,
      });

      const r = round('fed-1', 1);
      const createdRound = await h.store.createRound(r);
      // A selection handed out is a copy or frozen (shared by the reads), never the store's own mutable list.
      for (const ids of [r.selectedSiteIds, createdRound.selectedSiteIds])
        try {
          (ids as string[]).push('intruder');
        } catch (e) {
          expect(e).toBeInstanceOf(TypeError);
          expect(Object.isFrozen(ids)).toBe(true);
        }
      (createdRound.clientConfig as { lr: number }).lr = 9;
      expect(await h.store.getRound('fed-1', 1)).toMatchObject({
        selectedSiteIds: ['site-b', 'site-a'],
        clientConfig: { lr: 0.05 },
      });

      const u = update('fed-1', 1, 'site-a');
      await h.store.putUpdate(u);
      u.envelope.fill(0);
      const stored = await h.store.getUpdate('fed-1', 1, 'site-a');
      stored?.envelope.fill(1);
      (stored?.metrics as { loss: number }).loss = 7;
      expect(await h.store.getUpdate('fed-1', 1, 'site-a')).toEqual(update('fed-1', 1, 'site-a'));

      const w = bytes(16, 4);
      const state = bytes(4, 4);
      const v = version('v0', 'fed-1', 0);
      await h.store.publishVersion({ version: v, weights: w, strategyState: state });
      w.fill(0);
      state.fill(0);
      (v.meta as { strategy: string }).strategy = 'tampered';
      (await h.store.getVersionWeights('v0'))?.fill(9);
      (await h.store.getStrategyState('fed-1'))?.fill(9);
      expect(await h.store.getVersionWeights('v0')).toEqual(bytes(16, 4));
      expect(await h.store.getStrategyState('fed-1')).toEqual(bytes(4, 4));
      expect((await h.store.getVersion('v0'))?.meta).toEqual(version('v0', 'fed-1', 0).meta);

      const e = evaluation('v0', 'site-a');
      await h.store.putEvaluation(e);
      (e.metrics as { auc: number }).auc = 0;
      expect((await h.store.listEvaluations('v0'))[0]?.metrics).toEqual({ auc: 0.8, brier: 0.2 });
    });

    test('returned records are not shared between calls', async () => {
      await h.store.createInvitation({ id: 'i', siteName: 'a', tokenHash: 'th', createdAt: t(0), expiresAt: t(99) });
      const s = await h.store.enrollSite({ tokenHash: 'th', now: t(1), site: site('site-a') });
      if (s) s.revokedAt = t(2);
      (await h.store.listSites())[0]!.missedRounds = 5;
      expect(await h.store.getSite('site-a')).toMatchObject({ revokedAt: null, missedRounds: 0 });
    });

    test('stores JSON as JSON: undefined members vanish, extra record fields are not kept', async () => {
      await seedFederation(h.store, 'fed-1', 1);
      const u = {
        ...update('fed-1', 1, 'site-a'),
        metrics: { loss: 0.1, note: undefined, nested: [1, { a: null }] },
        extra: 1,
      };
      await h.store.putUpdate(u);
      const got = await (await h.again()).getUpdate('fed-1', 1, 'site-a');
      expect(got?.metrics).toStrictEqual({ loss: 0.1, nested: [1, { a: null }] });
      expect(got).not.toHaveProperty('extra');
    });
  });

  describe('health and close', () => {
    test('is healthy while open; after close every call rejects NOT_READY', async () => {
      expect(await h.store.health()).toBe(true);
      await h.store.close();
      await h.store.close();
      expect(await h.store.health()).toBe(false);
      await expect(h.store.getSite('x')).rejects.toMatchObject({ code: 'NOT_READY' });
      await expect(h.store.listAudit({ limit: 1 })).rejects.toMatchObject({ code: 'NOT_READY' });
      await expect(h.store.putUpdate(update('f', 1, 's'))).rejects.toMatchObject({ code: 'NOT_READY' });
    });
  });
}
