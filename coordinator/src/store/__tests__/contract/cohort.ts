/** Contract: cohort statistics queries (per study, creation order) and insert-once answers per (query, site). */
import { describe, expect, test } from '@jest/globals';
import type { CohortAnswerRecord, CohortQueryRecord } from '../../types';
import { type HarnessRef, t } from './fixtures';

const query = (id: string, studyId: string, at = t(1)): CohortQueryRecord => ({
  id,
  studyId,
  query: { title: `query ${id}`, source: { kind: 'csv' }, groupBy: [], counts: true },
  createdBy: 'researcher:ada',
  createdAt: at,
});

const answer = (queryId: string, siteId: string, digest = `d-${siteId}`): CohortAnswerRecord => ({
  queryId,
  siteId,
  answer: { kind: 'refusal', reason: 'NO_DATA' },
  digest,
  createdAt: t(5),
});

const entry = (action: string, subject: string) => ({ at: t(9), actor: 'site:x', action, subject, detail: {} });

/** The studies the queries below belong to (a fresh store holds `default`). */
async function seedStudies(h: HarnessRef): Promise<void> {
  for (const id of ['study-a', 'study-b']) await h.store.createStudy({ id, name: id, createdAt: t(0) });
}

export function cohortContract(h: HarnessRef): void {
  describe('cohort queries', () => {
    test('stores queries once, lists them in creation order, of every study or one', async () => {
      await seedStudies(h);
      await h.store.createCohortQuery(query('cq-2', 'study-a'), entry('cohort.query', 'cq-2'));
      await h.store.createCohortQuery(query('cq-1', 'study-b'));
      await h.store.createCohortQuery(query('cq-3', 'study-a'));
      await expect(h.store.createCohortQuery(query('cq-1', 'study-a'))).rejects.toMatchObject({
        code: 'ALREADY_EXISTS',
      });
      await expect(h.store.createCohortQuery(query('cq-9', 'study-none'))).rejects.toMatchObject({
        code: 'UNKNOWN_STUDY',
      });
      const s = await h.again();
      expect((await s.listCohortQueries()).map((q) => q.id)).toEqual(['cq-2', 'cq-1', 'cq-3']);
      expect((await s.listCohortQueries({ studyId: 'study-a' })).map((q) => q.id)).toEqual(['cq-2', 'cq-3']);
      expect(await s.listCohortQueries({ studyId: 'none' })).toEqual([]);
      expect(await s.getCohortQuery('cq-1')).toEqual(query('cq-1', 'study-b'));
      expect(await s.getCohortQuery('nope')).toBeNull();
      expect((await s.listAudit({ limit: 10 })).map((e) => e.action)).toEqual(['cohort.query']);
    });

    test('answers are insert-once per (query, site): duplicate for the same digest, conflict keeps the first', async () => {
      await seedStudies(h);
      await h.store.createCohortQuery(query('cq-1', 'study-a'));
      const a = answer('cq-1', 'site-a');
      expect(await h.store.putCohortAnswer(a, entry('cohort.answer', 'cq-1'))).toEqual({ status: 'accepted' });
      expect(await h.store.putCohortAnswer({ ...a, createdAt: t(7) }, entry('cohort.answer', 'cq-1'))).toEqual({
        status: 'duplicate',
        existing: a,
      });
      expect(await h.store.putCohortAnswer(answer('cq-1', 'site-a', 'other'), entry('cohort.answer', 'cq-1'))).toEqual({
        status: 'conflict',
        existing: a,
      });
      await expect(h.store.putCohortAnswer(answer('nope', 'site-a'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      const s = await h.again();
      expect(await s.listCohortAnswers('cq-1')).toEqual([a]);
      // Only the accepted answer was audited.
      expect((await s.listAudit({ limit: 10 })).map((e) => e.action)).toEqual(['cohort.answer']);
    });

    test('lists one query’s answers by site and one site’s answers by query', async () => {
      await seedStudies(h);
      await h.store.createCohortQuery(query('cq-b', 'study-a'));
      await h.store.createCohortQuery(query('cq-a', 'study-a'));
      await h.store.putCohortAnswer(answer('cq-b', 'site-c'));
      await h.store.putCohortAnswer(answer('cq-b', 'site-a'));
      await h.store.putCohortAnswer(answer('cq-a', 'site-c'));
      const s = await h.again();
      expect((await s.listCohortAnswers('cq-b')).map((a) => a.siteId)).toEqual(['site-a', 'site-c']);
      expect((await s.listSiteCohortAnswers('site-c')).map((a) => a.queryId)).toEqual(['cq-a', 'cq-b']);
      expect(await s.listSiteCohortAnswers('site-z')).toEqual([]);
      expect(await s.listCohortAnswers('cq-a')).toEqual([answer('cq-a', 'site-c')]);
    });
  });
}
