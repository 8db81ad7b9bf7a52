import { DEFAULT_STUDY_ID } from '@twinfed/shared';
import type { Study } from './records';

/**
 * The study every store starts with (the SQLite one from migration 008, which writes the same values): federations
 * created without a study belong to it, as does everything from before studies. Created when the store is.
 */
export const defaultStudy: Omit<Study, 'createdAt'> = {
  id: DEFAULT_STUDY_ID,
  name: 'default',
  description: 'Federations created without a study, and every federation created before studies existed.',
};
