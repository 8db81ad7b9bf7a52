/**
 * Contract: a cross-site evaluation per federation opened once; answers (with their sealed models) and results
 * insert-once per (federation, site, kind) and only in their phase; participants fixed and the matrix stored by
 * compare-and-set (the close audited once, by the call that made it); boxes deleted once their recipient reported, to non-participants when participants are fixed, and
 * all of them when the evaluation completes.
 */
import { describe, expect, test } from '@jest/globals';
import type { CrossSiteBoxRecord, CrossSiteMessageRecord, CrossSiteRecord, NewAuditEntry } from '../../types';
import { bytes, type HarnessRef, seedFederation, t } from './fixtures';

const SITES = ['site-a', 'site-b', 'site-c'];

const session = (federationId = 'fed-1', over: Partial<CrossSiteRecord> = {}): CrossSiteRecord => ({
  federationId,
  globalVersionId: `${federationId}.v1`,
  candidates: SITES,
  state: 'models',
  openedAt: t(10),
  modelsDeadlineAt: t(20),
  participants: null,
  resultsDeadlineAt: null,
  matrix: null,
  closedAt: null,
  ...over,
});

const evaluated: NewAuditEntry = {
  at: t(31),
  actor: 'system',
  action: 'federation.cross_site_evaluated',
  subject: 'fed-1',
  detail: { signature: 'sig' },
};

const answer = (siteId: string, status: 'model' | 'refused' = 'model'): CrossSiteMessageRecord => ({
  federationId: 'fed-1',
  siteId,
  kind: 'answer',
  payload: { status },
  createdAt: t(11),
});

const result = (siteId: string, auc = 0.7): CrossSiteMessageRecord => ({
  federationId: 'fed-1',
  siteId,
  kind: 'result',
  payload: { n: 40, global: auc, local: {} },
  createdAt: t(21),
});

/** Boxes from `sender` to every candidate. */
const boxes = (sender: string, fill = 1): CrossSiteBoxRecord[] =>
  SITES.map((recipient, i) => ({
    federationId: 'fed-1',
    sender,
    recipient,
    nonce: bytes(24, fill + i),
    ciphertext: bytes(40, fill + 10 + i),
  }));

export function crossSiteContract(h: HarnessRef): void {
  describe('cross-site evaluations', () => {
    test('a session is opened once per federation (the first wins); an unknown federation is UNKNOWN_FEDERATION', async () => {
      await seedFederation(h.store, 'fed-1', 0);
      expect(await h.store.getCrossSite('fed-1')).toBeNull();
      expect(await h.store.openCrossSite(session())).toEqual(session());
      expect(await h.store.openCrossSite(session('fed-1', { candidates: ['site-x'], openedAt: t(99) }))).toEqual(
        session(),
      );
      await expect(h.store.openCrossSite(session('nope'))).rejects.toMatchObject({ code: 'UNKNOWN_FEDERATION' });
      const s = await h.again();
      expect(await s.getCrossSite('fed-1')).toEqual(session());
      expect(await s.getCrossSite('nope')).toBeNull();
    });

    test('answers are insert-once with their boxes (duplicate keeps the first boxes); results are refused in the models phase', async () => {
      await seedFederation(h.store, 'fed-1', 0);
      await expect(h.store.putCrossSiteMessage(answer('site-a'), boxes('site-a'))).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      await h.store.openCrossSite(session());
      expect(await h.store.putCrossSiteMessage(answer('site-a'), boxes('site-a', 1))).toEqual({ status: 'accepted' });
      expect(await h.store.putCrossSiteMessage({ ...answer('site-a'), createdAt: t(15) }, boxes('site-a', 5))).toEqual({
        status: 'duplicate',
        existing: answer('site-a'),
      });
      expect(await h.store.putCrossSiteMessage(answer('site-a', 'refused'))).toEqual({
        status: 'conflict',
        existing: answer('site-a'),
      });
      expect(await h.store.putCrossSiteMessage(result('site-a'))).toEqual({ status: 'closed', session: session() });
      const s = await h.again();
      expect(await s.listCrossSiteMessages('fed-1', 'answer')).toEqual([answer('site-a')]);
      expect(await s.listCrossSiteMessages('fed-1', 'result')).toEqual([]);
      expect(await s.listCrossSiteBoxes('fed-1', 'site-b')).toEqual([boxes('site-a', 1)[1]]);
    });

    test('participants are fixed only as the stored model answers, and boxes to non-participants are deleted', async () => {
      await seedFederation(h.store, 'fed-1', 0);
      await h.store.openCrossSite(session());
      await h.store.putCrossSiteMessage(answer('site-a'), boxes('site-a', 1));
      await h.store.putCrossSiteMessage(answer('site-b'), boxes('site-b', 4));
      await h.store.putCrossSiteMessage(answer('site-c', 'refused'));
      // Not the stored model answers: nothing changes.
      expect(await h.store.fixCrossSiteParticipants('fed-1', ['site-a'], t(30))).toEqual(session());
      const fixed = await h.store.fixCrossSiteParticipants('fed-1', ['site-b', 'site-a'], t(30));
      expect(fixed).toEqual(
        session('fed-1', { state: 'evaluating', participants: ['site-a', 'site-b'], resultsDeadlineAt: t(30) }),
      );
      // Fixed once: a second call changes nothing.
      expect(await h.store.fixCrossSiteParticipants('fed-1', ['site-a', 'site-b'], t(99))).toEqual(fixed);
      expect(await h.store.putCrossSiteMessage(answer('site-x'))).toEqual({ status: 'closed', session: fixed });
      const s = await h.again();
      expect(await s.getCrossSite('fed-1')).toEqual(fixed);
      expect(await s.listCrossSiteBoxes('fed-1', 'site-c')).toEqual([]);
      expect((await s.listCrossSiteBoxes('fed-1', 'site-a')).map((b) => b.sender)).toEqual(['site-a', 'site-b']);
      await expect(s.fixCrossSiteParticipants('nope', [], t(1))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    test('a result deletes the boxes addressed to its site; closing stores the matrix once and deletes every box', async () => {
      await seedFederation(h.store, 'fed-1', 0);
      await h.store.openCrossSite(session());
      await h.store.putCrossSiteMessage(answer('site-a'), boxes('site-a', 1));
      await h.store.putCrossSiteMessage(answer('site-b'), boxes('site-b', 4));
      await h.store.fixCrossSiteParticipants('fed-1', ['site-a', 'site-b'], t(30));
      expect(await h.store.putCrossSiteMessage(result('site-a'))).toEqual({ status: 'accepted' });
      expect(await h.store.listCrossSiteBoxes('fed-1', 'site-a')).toEqual([]);
      expect(await h.store.listCrossSiteBoxes('fed-1', 'site-b')).toHaveLength(2);
      expect(await h.store.putCrossSiteMessage(result('site-a', 0.9))).toMatchObject({ status: 'conflict' });
      const matrix = { metric: 'auc', rows: [] };
      // Not the stored results: nothing changes.
      const early = await h.store.closeCrossSite('fed-1', { matrix, closedAt: t(31), reported: [] }, evaluated);
      expect(early).toMatchObject({ closed: false, session: { state: 'evaluating' } });
      // Concurrent closes with the same matrix at the same time (two requests in one millisecond): exactly one closes,
      // and only its audit entry is appended.
      const tries = await Promise.all(
        [1, 2, 3].map(() =>
          h.store.closeCrossSite('fed-1', { matrix, closedAt: t(31), reported: ['site-a'] }, evaluated),
        ),
      );
      expect(tries.map((r) => r.closed).sort()).toEqual([false, false, true]);
      const closed = tries[0]!.session;
      for (const r of tries) expect(r.session).toEqual(closed);
      expect(closed).toEqual(
        session('fed-1', {
          state: 'complete',
          participants: ['site-a', 'site-b'],
          resultsDeadlineAt: t(30),
          matrix,
          closedAt: t(31),
        }),
      );
      expect(
        await h.store.closeCrossSite(
          'fed-1',
          { matrix: { other: 1 }, closedAt: t(40), reported: ['site-a'] },
          evaluated,
        ),
      ).toEqual({ closed: false, session: closed });
      const audits = (await h.store.listAudit({ limit: 1000 })).filter((e) => e.action === evaluated.action);
      expect(audits).toEqual([expect.objectContaining(evaluated)]);
      expect(await h.store.putCrossSiteMessage(result('site-b'))).toEqual({ status: 'closed', session: closed });
      const s = await h.again();
      expect(await s.getCrossSite('fed-1')).toEqual(closed);
      expect(await s.listCrossSiteBoxes('fed-1', 'site-b')).toEqual([]);
      expect(await s.listCrossSiteMessages('fed-1', 'result')).toEqual([result('site-a')]);
    });
  });
}
