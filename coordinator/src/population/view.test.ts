import type { PopulationReport } from '@twinfed/shared';
import { populationView } from './view';

function report(versionId: string, counts: { low: number | null; high: number | null }): PopulationReport {
  const all = counts.low !== null && counts.high !== null ? counts.low + counts.high : null;
  return {
    versionId,
    at: '2026-11-26T00:00:00.000Z',
    k: 10,
    epsilon: null,
    tiers: ['low', 'high'],
    ageBands: ['0-64', '65+'],
    cells: [
      { tier: 'low', ageBand: '0-64', count: counts.low },
      { tier: 'low', ageBand: '65+', count: null },
      { tier: 'high', ageBand: '0-64', count: null },
      { tier: 'high', ageBand: '65+', count: counts.high },
    ],
    totals: {
      all,
      byTier: [
        { tier: 'low', count: counts.low },
        { tier: 'high', count: counts.high },
      ],
      byAgeBand: [
        { ageBand: '0-64', count: null },
        { ageBand: '65+', count: null },
      ],
    },
    suppressedCells: 2 + (counts.low === null ? 1 : 0) + (counts.high === null ? 1 : 0),
  };
}

describe('populationView', () => {
  const view = populationView([
    { siteId: 's-a', name: 'Alpha', versionId: 'v1', report: report('v1', { low: 100, high: 15 }) },
    { siteId: 's-b', name: 'Beta', versionId: 'v1', report: report('v1', { low: 50, high: 40 }) },
    { siteId: 's-c', name: 'Gamma', versionId: 'v1', report: report('v1', { low: 80, high: null }) },
    { siteId: 's-a', name: 'Alpha', versionId: 'v2', report: report('v2', { low: 90, high: 25 }) },
  ]);

  test('uses each site’s latest report', () => {
    expect(view.sites.find((s) => s.siteId === 's-a')).toMatchObject({ versionId: 'v2', highRisk: 25, total: 115 });
    expect(view.versionIds.sort()).toEqual(['v1', 'v2']);
  });

  test('sums only released counts and counts suppressed sites', () => {
    expect(view.tiers).toEqual([
      { tier: 'low', count: 90 + 50 + 80, suppressedSites: 0 },
      { tier: 'high', count: 25 + 40, suppressedSites: 1 },
    ]);
    expect(view.cells.find((c) => c.tier === 'low' && c.ageBand === '65+')).toEqual({
      tier: 'low',
      ageBand: '65+',
      count: 0,
      suppressedSites: 3,
    });
  });

  test('ranks sites by high-risk count for vaccine priority, suppressed last', () => {
    expect(view.ranking.map((r) => [r.rank, r.name, r.highRisk])).toEqual([
      [1, 'Beta', 40],
      [2, 'Alpha', 25],
      [3, 'Gamma', null],
    ]);
  });
});
