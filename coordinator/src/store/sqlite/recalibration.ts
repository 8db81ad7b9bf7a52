/** SQLite: masked recalibration histograms per federation and site (the table of stats.ts's kind). */
import type { RecalibrationStore } from '../types';
import type { SqliteContext } from './context';
import { contributionTable } from './stats';

export function recalibration(x: SqliteContext): RecalibrationStore {
  const t = contributionTable(x, 'recalibration_contributions');
  return {
    putRecalibrationContribution: (r) => t.put(r),
    listRecalibrationContributions: (fid) => t.list(fid),
  };
}
