/** SQLite: cohort statistics queries and the sites' answers. */
import { unknownCohortQuery, unknownStudy } from '../errors';
import type { CohortAnswerRecord, CohortQueryRecord, PutCohortAnswerResult } from '../records';
import type { CohortStore } from '../types';
import { insertUnique, type SqliteContext } from './context';

interface QueryRow extends Omit<CohortQueryRecord, 'query'> {
  query: string;
}
interface AnswerRow extends Omit<CohortAnswerRecord, 'answer'> {
  answer: string;
}

const QUERIES =
  'SELECT id, study_id AS studyId, query, created_by AS createdBy, created_at AS createdAt FROM cohort_queries';
const ANSWERS =
  'SELECT query_id AS queryId, site_id AS siteId, answer, digest, created_at AS createdAt FROM cohort_answers';

const toQuery = (r: QueryRow): CohortQueryRecord => ({
  ...r,
  query: JSON.parse(r.query) as CohortQueryRecord['query'],
});
const toAnswer = (r: AnswerRow): CohortAnswerRecord => ({
  ...r,
  answer: JSON.parse(r.answer) as CohortAnswerRecord['answer'],
});

export function cohort(x: SqliteContext): CohortStore {
  return {
    async createCohortQuery(q, audit) {
      // Studies are never deleted, so the check and the insert need no transaction of their own (the FK backs it).
      return x.audited(audit, (c) => {
        if (!c.stmt('SELECT 1 FROM studies WHERE id = ?').get(q.studyId)) throw unknownStudy();
        insertUnique('Cohort query', () =>
          c
            .stmt('INSERT INTO cohort_queries (id, study_id, query, created_by, created_at) VALUES (?, ?, ?, ?, ?)')
            .run(q.id, q.studyId, JSON.stringify(q.query), q.createdBy, q.createdAt),
        );
        return toQuery(c.stmt(`${QUERIES} WHERE id = ?`).get(q.id) as QueryRow);
      });
    },

    async getCohortQuery(id) {
      const row = x.c.stmt(`${QUERIES} WHERE id = ?`).get(id) as QueryRow | undefined;
      return row ? toQuery(row) : null;
    },

    async listCohortQueries(filter = {}) {
      const rows =
        filter.studyId === undefined
          ? (x.c.stmt(`${QUERIES} ORDER BY rowid`).all() as QueryRow[])
          : (x.c.stmt(`${QUERIES} WHERE study_id = ? ORDER BY rowid`).all(filter.studyId) as QueryRow[]);
      return rows.map(toQuery);
    },

    async putCohortAnswer(a, audit) {
      const c = x.c;
      const write = (): PutCohortAnswerResult => {
        if (!c.stmt('SELECT 1 FROM cohort_queries WHERE id = ?').get(a.queryId)) throw unknownCohortQuery();
        const row = c.stmt(`${ANSWERS} WHERE query_id = ? AND site_id = ?`).get(a.queryId, a.siteId) as
          AnswerRow | undefined;
        if (row) {
          const existing = toAnswer(row);
          return { status: existing.digest === a.digest ? 'duplicate' : 'conflict', existing };
        }
        c.stmt('INSERT INTO cohort_answers (query_id, site_id, answer, digest, created_at) VALUES (?, ?, ?, ?, ?)').run(
          a.queryId,
          a.siteId,
          JSON.stringify(a.answer),
          a.digest,
          a.createdAt,
        );
        return { status: 'accepted' };
      };
      // With an audit entry, `audited` runs the check, the insert and the entry in one immediate transaction.
      return audit ? x.audited(audit, write, (r) => r.status === 'accepted') : c.tx(write);
    },

    async listCohortAnswers(queryId) {
      return (x.c.stmt(`${ANSWERS} WHERE query_id = ? ORDER BY site_id`).all(queryId) as AnswerRow[]).map(toAnswer);
    },

    async listSiteCohortAnswers(siteId) {
      return (x.c.stmt(`${ANSWERS} WHERE site_id = ? ORDER BY query_id`).all(siteId) as AnswerRow[]).map(toAnswer);
    },
  };
}
