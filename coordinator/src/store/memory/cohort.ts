/** In memory: cohort statistics queries and the sites' answers. */
import { alreadyExists, unknownCohortQuery, unknownStudy } from '../errors';
import { COHORT_ANSWER_KEYS, COHORT_QUERY_KEYS } from '../keys';
import type { CohortAnswerRecord, CohortQueryRecord, PutCohortAnswerResult } from '../records';
import type { CohortStore } from '../types';
import { cloneRecord, compareStrings } from '../util';
import type { MemoryContext } from './context';
import { key } from './state';

const copyQuery = (q: CohortQueryRecord): CohortQueryRecord => cloneRecord(q, COHORT_QUERY_KEYS);
const copyAnswer = (a: CohortAnswerRecord): CohortAnswerRecord => cloneRecord(a, COHORT_ANSWER_KEYS);

export function cohort(x: MemoryContext): CohortStore {
  return {
    async createCohortQuery(q, audit) {
      return x.audited(audit, (s) => {
        if (s.cohortQueries.has(q.id)) throw alreadyExists('Cohort query');
        if (!s.studies.has(q.studyId)) throw unknownStudy();
        s.cohortQueries.set(q.id, copyQuery(q));
        return copyQuery(q);
      });
    },

    async getCohortQuery(id) {
      const q = x.s.cohortQueries.get(id);
      return q ? copyQuery(q) : null;
    },

    async listCohortQueries(filter = {}) {
      return [...x.s.cohortQueries.values()]
        .filter((q) => filter.studyId === undefined || q.studyId === filter.studyId)
        .map(copyQuery);
    },

    async putCohortAnswer(a, audit) {
      return x.audited(
        audit,
        (s): PutCohortAnswerResult => {
          if (!s.cohortQueries.has(a.queryId)) throw unknownCohortQuery();
          const existing = s.cohortAnswers.get(key(a.queryId, a.siteId));
          if (existing)
            return { status: existing.digest === a.digest ? 'duplicate' : 'conflict', existing: copyAnswer(existing) };
          s.cohortAnswers.set(key(a.queryId, a.siteId), copyAnswer(a));
          return { status: 'accepted' };
        },
        (r) => r.status === 'accepted',
      );
    },

    async listCohortAnswers(queryId) {
      return [...x.s.cohortAnswers.values()]
        .filter((a) => a.queryId === queryId)
        .sort((a, b) => compareStrings(a.siteId, b.siteId))
        .map(copyAnswer);
    },

    async listSiteCohortAnswers(siteId) {
      return [...x.s.cohortAnswers.values()]
        .filter((a) => a.siteId === siteId)
        .sort((a, b) => compareStrings(a.queryId, b.queryId))
        .map(copyAnswer);
    },
  };
}
