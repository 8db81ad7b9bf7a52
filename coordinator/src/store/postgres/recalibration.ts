/** PostgreSQL: masked recalibration histograms per federation and site (the table of stats.ts's kind). */
import { recalibrationMethods } from '../contribution-stores';
import type { RecalibrationStore } from '../types';
import type { PgContext } from './context';
import { contributionTable } from './stats';

export const recalibration = (x: PgContext): RecalibrationStore =>
  recalibrationMethods((kind) => contributionTable(x, kind));
