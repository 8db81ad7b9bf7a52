/** In memory: masked recalibration histograms per federation and site (the map of stats.ts's kind). */
import type { RecalibrationStore } from '../types';
import type { MemoryContext } from './context';
import { contributionTable } from './stats';

export function recalibration(x: MemoryContext): RecalibrationStore {
  const t = contributionTable(x, 'recalibrationContributions');
  return {
    putRecalibrationContribution: (r) => t.put(r),
    listRecalibrationContributions: (fid) => t.list(fid),
  };
}
