/**
 * The store methods of the three secure sums after (or beside) the federation — normalisation statistics, Cox
 * baselines, recalibration histograms — over an engine's insert-once table of masked contributions (its own table
 * per secure sum, the same rules; memory/sqlite/postgres stats.ts).
 */
import type { PutStatsContributionResult, StatsContributionRecord } from './records';
import type { RecalibrationStore, StatsStore } from './types';

/** Which secure sum's table. */
export type ContributionKind = 'stats' | 'baseline' | 'recalibration';

interface ContributionTable {
  put(record: StatsContributionRecord): Promise<PutStatsContributionResult>;
  list(federationId: string): Promise<StatsContributionRecord[]>;
}

export function statsMethods(table: (kind: ContributionKind) => ContributionTable): StatsStore {
  const normalization = table('stats');
  const baseline = table('baseline');
  return {
    putStatsContribution: (r) => normalization.put(r),
    listStatsContributions: (fid) => normalization.list(fid),
    putBaselineContribution: (r) => baseline.put(r),
    listBaselineContributions: (fid) => baseline.list(fid),
  };
}

export function recalibrationMethods(table: (kind: ContributionKind) => ContributionTable): RecalibrationStore {
  const t = table('recalibration');
  return {
    putRecalibrationContribution: (r) => t.put(r),
    listRecalibrationContributions: (fid) => t.list(fid),
  };
}
