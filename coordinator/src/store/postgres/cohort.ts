/** PostgreSQL: cohort statistics queries and the sites' answers (insert-once per query and site). */
import { unknownCohortQuery, unknownStudy } from '../errors';
import type { CohortAnswerRecord, CohortQueryRecord, PutCohortAnswerResult } from '../records';
import type { CohortStore } from '../types';
import { insertUnique, parseJson, type PgContext } from './context';
import { getStudy } from './studies';

interface QueryRow extends Omit<CohortQueryRecord, 'query'> {
  query: string;
}
interface AnswerRow extends Omit<CohortAnswerRecord, 'answer'> {
  answer: string;
}

const QUERIES = `SELECT id, study_id AS "studyId", query, created_by AS "createdBy", created_at AS "createdAt"
  FROM cohort_queries`;
const ANSWERS = `SELECT query_id AS "queryId", site_id AS "siteId", answer, digest, created_at AS "createdAt"
  FROM cohort_answers`;

const toQuery = (r: QueryRow): CohortQueryRecord => ({ ...r, query: parseJson<CohortQueryRecord['query']>(r.query) });
const toAnswer = (r: AnswerRow): CohortAnswerRecord => ({
  ...r,
  answer: parseJson<CohortAnswerRecord['answer']>(r.answer),
});

export function cohort(x: PgContext): CohortStore {
  return {
    async createCohortQuery(q, audit) {
      return x.audited(audit, async (sql) => {
        if (!(await getStudy(sql, q.studyId))) throw unknownStudy();
        await insertUnique('Cohort query', () =>
          sql.count(
            'INSERT INTO cohort_queries (id, study_id, query, created_by, created_at) VALUES ($1, $2, $3, $4, $5)',
            [q.id, q.studyId, JSON.stringify(q.query), q.createdBy, q.createdAt],
          ),
        );
        return toQuery((await sql.one<QueryRow>(`${QUERIES} WHERE id = $1`, [q.id])) as QueryRow);
      });
    },

    async getCohortQuery(id) {
      const row = await x.sql.one<QueryRow>(`${QUERIES} WHERE id = $1`, [id]);
      return row ? toQuery(row) : null;
    },

    async listCohortQueries(filter = {}) {
      const rows =
        filter.studyId === undefined
          ? await x.sql.rows<QueryRow>(`${QUERIES} ORDER BY seq`)
          : await x.sql.rows<QueryRow>(`${QUERIES} WHERE study_id = $1 ORDER BY seq`, [filter.studyId]);
      return rows.map(toQuery);
    },

    async putCohortAnswer(a, audit) {
      return x.audited(
        audit,
        async (sql): Promise<PutCohortAnswerResult> => {
          if (!(await sql.one('SELECT 1 FROM cohort_queries WHERE id = $1', [a.queryId]))) throw unknownCohortQuery();
          const inserted = await sql.count(
            `INSERT INTO cohort_answers (query_id, site_id, answer, digest, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING`,
            [a.queryId, a.siteId, JSON.stringify(a.answer), a.digest, a.createdAt],
          );
          if (inserted === 1) return { status: 'accepted' };
          const existing = toAnswer(
            (await sql.one<AnswerRow>(`${ANSWERS} WHERE query_id = $1 AND site_id = $2`, [
              a.queryId,
              a.siteId,
            ])) as AnswerRow,
          );
          return { status: existing.digest === a.digest ? 'duplicate' : 'conflict', existing };
        },
        (r) => r.status === 'accepted',
      );
    },

    async listCohortAnswers(queryId) {
      return (await x.sql.rows<AnswerRow>(`${ANSWERS} WHERE query_id = $1 ORDER BY site_id`, [queryId])).map(toAnswer);
    },

    async listSiteCohortAnswers(siteId) {
      return (await x.sql.rows<AnswerRow>(`${ANSWERS} WHERE site_id = $1 ORDER BY query_id`, [siteId])).map(toAnswer);
    },
  };
}
