import { ageBandNames, ageBandOf, PopulationReportSchema, PopulationSettingsSchema } from './population';

describe('age bands', () => {
  test('names bands from cut points and places ages', () => {
    expect(ageBandNames([18, 65])).toEqual(['0-17', '18-64', '65+', 'unknown']);
    expect(ageBandNames()).toEqual(['0-17', '18-44', '45-64', '65-79', '80+', 'unknown']);
    expect([0, 17, 18, 64, 65, 120].map((a) => ageBandOf(a, [18, 65]))).toEqual([
      '0-17',
      '0-17',
      '18-64',
      '18-64',
      '65+',
      '65+',
    ]);
    expect(ageBandOf(null)).toBe('unknown');
    expect(PopulationSettingsSchema.safeParse({ ageBands: [65, 18] }).success).toBe(false);
    expect(PopulationSettingsSchema.parse({})).toEqual({ k: 10, ageBands: [18, 45, 65, 80] });
  });
});

describe('PopulationReportSchema', () => {
  const report = {
    versionId: 'v1',
    at: '2024-01-31T00:00:00.000Z',
    k: 10,
    epsilon: null,
    tiers: ['low', 'high'],
    ageBands: ['0-64', '65+'],
    cells: [
      { tier: 'low', ageBand: '0-64', count: 30 },
      { tier: 'low', ageBand: '65+', count: null },
      { tier: 'high', ageBand: '0-64', count: null },
      { tier: 'high', ageBand: '65+', count: 12 },
    ],
    totals: {
      all: 50,
      byTier: [
        { tier: 'low', count: 33 },
        { tier: 'high', count: 17 },
      ],
      byAgeBand: [
        { ageBand: '0-64', count: 35 },
        { ageBand: '65+', count: 15 },
      ],
    },
    suppressedCells: 2,
  };

  test('accepts a k-anonymous report', () => {
    expect(PopulationReportSchema.safeParse(report).success).toBe(true);
  });

  test('refuses a released count below k, missing or repeated cells, a wrong suppressed count', () => {
    const small = {
      ...report,
      cells: report.cells.map((c, i) => (i === 1 ? { ...c, count: 3 } : c)),
      suppressedCells: 1,
    };
    expect(PopulationReportSchema.safeParse(small).success).toBe(false);
    expect(PopulationReportSchema.safeParse({ ...report, totals: { ...report.totals, all: 9 } }).success).toBe(false);
    expect(
      PopulationReportSchema.safeParse({ ...report, cells: report.cells.slice(1), suppressedCells: 2 }).success,
    ).toBe(false);
    expect(
      PopulationReportSchema.safeParse({ ...report, cells: [...report.cells.slice(0, 3), report.cells[0]] }).success,
    ).toBe(false);
    expect(PopulationReportSchema.safeParse({ ...report, suppressedCells: 1 }).success).toBe(false);
  });
});
