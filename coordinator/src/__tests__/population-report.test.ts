import { PopulationReportSchema } from '@twinfed/shared';
import { populationReport } from './population-report';

test('the shared population report fixture is valid: the tests that post it expect it to be accepted', () => {
  expect(PopulationReportSchema.safeParse(populationReport('fed-1.v0')).success).toBe(true);
});

test('each call is a fresh object, so a test may edit its copy', () => {
  const a = populationReport('fed-1.v0');
  a.cells[0] = { tier: 'low', ageBand: '0-64', count: 3 };
  expect(populationReport('fed-1.v0').cells[0]).toEqual({ tier: 'low', ageBand: '0-64', count: 40 });
});
