import type { PopulationReport } from '@twinfed/shared';

/**
 * A population report a member could post for `versionId`: two tiers × two age bands, every released count
 * (cells and totals) at least k = 10, nothing suppressed. Tests that need another report spread this one and
 * replace what differs.
 */
export function populationReport(versionId: string): PopulationReport {
  return {
    versionId,
    at: '2025-01-01T00:00:00.000Z',
    k: 10,
    epsilon: 1,
    tiers: ['low', 'high'],
    ageBands: ['0-64', '65+'],
    cells: [
      { tier: 'low', ageBand: '0-64', count: 40 },
      { tier: 'low', ageBand: '65+', count: 30 },
      { tier: 'high', ageBand: '0-64', count: 12 },
      { tier: 'high', ageBand: '65+', count: 11 },
    ],
    totals: {
      all: 93,
      byTier: [
        { tier: 'low', count: 70 },
        { tier: 'high', count: 23 },
      ],
      byAgeBand: [
        { ageBand: '0-64', count: 52 },
        { ageBand: '65+', count: 41 },
      ],
    },
    suppressedCells: 0,
  };
}
