/** Contract: studies, and the study of every federation and researcher token. */
import { describe, expect, test } from '@jest/globals';
import { DEFAULT_STUDY_ID } from '@twinfed/shared';
import type { NewAuditEntry } from '../../types';
import { federation, type HarnessRef, t } from './fixtures';

const audit = (action: string, subject: string): NewAuditEntry => ({
  at: t(9),
  actor: 'operator:ops',
  action,
  subject,
  detail: {},
});

export function studyContract(h: HarnessRef): void {
  describe('studies', () => {
    test('a fresh store holds the default study, which federations and tokens may name', async () => {
      const [only, ...rest] = await h.store.listStudies();
      expect(rest).toEqual([]);
      expect(only).toEqual({
        id: DEFAULT_STUDY_ID,
        name: 'default',
        description: 'Federations created without a study, and every federation created before studies existed.',
        createdAt: expect.any(String),
      });
      expect(new Date(only!.createdAt).toISOString()).toBe(only!.createdAt);
      expect(await h.store.getStudy(DEFAULT_STUDY_ID)).toEqual(only);
    });

    test('creates studies (description optional), reads one back and lists them in creation order', async () => {
      const b = await h.store.createStudy(
        { id: 'study-b', name: 'Sepsis 2026', description: 'ICU sepsis onset', createdAt: t(5) },
        audit('study.create', 'study-b'),
      );
      expect(b).toEqual({ id: 'study-b', name: 'Sepsis 2026', description: 'ICU sepsis onset', createdAt: t(5) });
      const a = await h.store.createStudy({ id: 'study-a', name: 'Heart', createdAt: t(1) });
      expect(a.description).toBeNull();
      const s = await h.again();
      expect(await s.getStudy('study-b')).toEqual(b);
      expect(await s.getStudy('nope')).toBeNull();
      expect((await s.listStudies()).filter((x) => x.id !== DEFAULT_STUDY_ID)).toEqual([a, b]);
      expect((await s.listAudit({ limit: 10 })).map((e) => `${e.action} ${e.subject}`)).toEqual([
        'study.create study-b',
      ]);
    });

    test('refuses a taken id or name and writes nothing (no audit entry either)', async () => {
      await h.store.createStudy({ id: 'study-a', name: 'Heart', createdAt: t(1) });
      await expect(
        h.store.createStudy({ id: 'study-a', name: 'Other', createdAt: t(2) }, audit('study.create', 'study-a')),
      ).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      await expect(
        h.store.createStudy({ id: 'study-x', name: 'Heart', createdAt: t(2) }, audit('study.create', 'study-x')),
      ).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      const s = await h.again();
      expect((await s.listStudies()).map((x) => x.id)).toEqual(['study-a', DEFAULT_STUDY_ID]); // by creation time
      expect(await s.listAudit({ limit: 10 })).toEqual([]);
    });

    test('a federation belongs to its study, the default one when none is given; an unknown study stores nothing', async () => {
      await h.store.createStudy({ id: 'study-a', name: 'Heart', createdAt: t(1) });
      await h.store.createFederation({ ...federation('fed-a'), studyId: 'study-a' });
      await h.store.createFederation(federation('fed-d'));
      await expect(
        h.store.createFederation({ ...federation('fed-x'), studyId: 'nope' }, audit('federation.create', 'fed-x')),
      ).rejects.toMatchObject({ code: 'UNKNOWN_STUDY' });
      const s = await h.again();
      expect((await s.getFederation('fed-a'))?.studyId).toBe('study-a');
      expect((await s.getFederation('fed-d'))?.studyId).toBe(DEFAULT_STUDY_ID);
      expect((await s.listFederations()).map((f) => [f.id, f.studyId])).toEqual([
        ['fed-a', 'study-a'],
        ['fed-d', DEFAULT_STUDY_ID],
      ]);
      expect(await s.getFederation('fed-x')).toBeNull();
      expect(await s.listAudit({ limit: 10 })).toEqual([]);
      // A patch never moves a federation to another study.
      expect((await s.updateFederation('fed-a', { currentRound: 3 }))?.studyId).toBe('study-a');
    });

    test("a token keeps its studies (sorted, once each); operators' tokens have none; an unknown study stores nothing", async () => {
      await h.store.createStudy({ id: 'study-b', name: 'B', createdAt: t(1) });
      await h.store.createStudy({ id: 'study-a', name: 'A', createdAt: t(2) });
      const researcher = await h.store.createApiToken({
        id: 'tok-r',
        name: 'Dr Ada',
        role: 'researcher',
        studies: ['study-b', 'study-a', 'study-b'],
        tokenHash: 'hr',
        createdAt: t(3),
      });
      expect(researcher.studies).toEqual(['study-a', 'study-b']);
      const op = await h.store.createApiToken({
        id: 'tok-o',
        name: 'ops',
        role: 'operator',
        tokenHash: 'ho',
        createdAt: t(4),
      });
      expect(op.studies).toEqual([]);
      await expect(
        h.store.createApiToken(
          {
            id: 'tok-x',
            name: 'x',
            role: 'researcher',
            studies: ['study-a', 'nope'],
            tokenHash: 'hx',
            createdAt: t(5),
          },
          audit('token.create', 'tok-x'),
        ),
      ).rejects.toMatchObject({ code: 'UNKNOWN_STUDY' });
      const s = await h.again();
      expect(await s.findApiTokenByHash('hr')).toEqual(researcher);
      expect(await s.findApiTokenByHash('hx')).toBeNull();
      expect((await s.listApiTokens()).map((x) => [x.id, x.studies])).toEqual([
        ['tok-r', ['study-a', 'study-b']],
        ['tok-o', []],
      ]);
      expect(await s.listAudit({ limit: 10 })).toEqual([]);
    });
  });
}
