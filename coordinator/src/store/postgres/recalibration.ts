/** PostgreSQL: masked recalibration histograms per federation and site (the table of stats.ts's kind). */
import type { RecalibrationStore } from '../types';
import type { PgContext } from './context';
import { contributionTable } from './stats';

export function recalibration(x: PgContext): RecalibrationStore {
  const t = contributionTable(x, 'recalibration_contributions');
  return {
    putRecalibrationContribution: (r) => t.put(r),
    listRecalibrationContributions: (fid) => t.list(fid),
  };
}
