/** PostgreSQL: studies. */
import type { Study } from '../records';
import type { StudyStore } from '../types';
import { insertUnique, type PgContext } from './context';
import type { Sql } from './db';

const STUDIES = 'SELECT id, name, description, created_at AS "createdAt" FROM studies';

export async function getStudy(sql: Sql, id: string): Promise<Study | null> {
  return (await sql.one<Study>(`${STUDIES} WHERE id = $1`, [id])) ?? null;
}

export function studies(x: PgContext): StudyStore {
  return {
    async createStudy(study, audit) {
      return x.audited(audit, async (sql) => {
        await insertUnique('Study', () =>
          sql.count('INSERT INTO studies (id, name, description, created_at) VALUES ($1, $2, $3, $4)', [
            study.id,
            study.name,
            study.description ?? null,
            study.createdAt,
          ]),
        );
        return (await getStudy(sql, study.id)) as Study;
      });
    },

    async getStudy(id) {
      return getStudy(x.sql, id);
    },

    async listStudies() {
      return x.sql.rows<Study>(`${STUDIES} ORDER BY created_at, id`);
    },
  };
}
