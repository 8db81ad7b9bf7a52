/** In memory: masked recalibration histograms per federation and site (the map of stats.ts's kind). */
import { recalibrationMethods } from '../contribution-stores';
import type { RecalibrationStore } from '../types';
import type { MemoryContext } from './context';
import { contributionTable } from './stats';

export const recalibration = (x: MemoryContext): RecalibrationStore =>
  recalibrationMethods((kind) => contributionTable(x, kind));
