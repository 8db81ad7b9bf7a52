/** In memory: studies. */
import { alreadyExists } from '../errors';
import { STUDY_KEYS } from '../keys';
import type { Study } from '../records';
import type { StudyStore } from '../types';
import { cloneRecord, sortByKeys } from '../util';
import type { MemoryContext } from './context';

const copyStudy = (s: Study): Study => cloneRecord(s, STUDY_KEYS);

export function studies(x: MemoryContext): StudyStore {
  return {
    async createStudy(study, audit) {
      return x.audited(audit, (s) => {
        if (s.studies.has(study.id) || [...s.studies.values()].some((o) => o.name === study.name))
          throw alreadyExists('Study');
        const stored = copyStudy({ ...study, description: study.description ?? null });
        s.studies.set(stored.id, stored);
        return copyStudy(stored);
      });
    },

    async getStudy(id) {
      const study = x.s.studies.get(id);
      return study ? copyStudy(study) : null;
    },

    async listStudies() {
      return sortByKeys([...x.s.studies.values()], [(o) => o.createdAt, (o) => o.id]).map(copyStudy);
    },
  };
}
