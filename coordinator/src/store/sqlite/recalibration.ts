/** SQLite: masked recalibration histograms per federation and site (the table of stats.ts's kind). */
import { recalibrationMethods } from '../contribution-stores';
import type { RecalibrationStore } from '../types';
import type { SqliteContext } from './context';
import { contributionTable } from './stats';

export const recalibration = (x: SqliteContext): RecalibrationStore =>
  recalibrationMethods((kind) => contributionTable(x, kind));
