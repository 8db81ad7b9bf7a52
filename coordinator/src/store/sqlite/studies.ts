/** SQLite: studies. */
import type { Study } from '../records';
import type { StudyStore } from '../types';
import { insertUnique, type SqlContext, type SqliteContext } from './context';

const STUDIES = 'SELECT id, name, description, created_at AS createdAt FROM studies';

export function getStudy(c: SqlContext, id: string): Study | null {
  return (c.stmt(`${STUDIES} WHERE id = ?`).get(id) as Study | undefined) ?? null;
}

export function studies(x: SqliteContext): StudyStore {
  return {
    async createStudy(study, audit) {
      return x.audited(audit, (c) => {
        insertUnique('Study', () =>
          c
            .stmt('INSERT INTO studies (id, name, description, created_at) VALUES (?, ?, ?, ?)')
            .run(study.id, study.name, study.description ?? null, study.createdAt),
        );
        return getStudy(c, study.id) as Study;
      });
    },

    async getStudy(id) {
      return getStudy(x.c, id);
    },

    async listStudies() {
      return x.c.stmt(`${STUDIES} ORDER BY created_at, id`).all() as Study[];
    },
  };
}
