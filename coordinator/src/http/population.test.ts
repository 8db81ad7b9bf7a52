import { routes, type PopulationReport } from '@twinfed/shared';
import { enrollTestSite, operator, startTestCoordinator, testPlan, type TestSite } from '../__tests__/harness';
import { populationReport } from '../__tests__/population-report';

/** The shared valid report with its high-risk cells suppressed; only the tier total, `high`, is released. */
function report(versionId: string, high: number): PopulationReport {
  return {
    ...populationReport(versionId),
    cells: [
      { tier: 'low', ageBand: '0-64', count: 40 },
      { tier: 'low', ageBand: '65+', count: 30 },
      { tier: 'high', ageBand: '0-64', count: null },
      { tier: 'high', ageBand: '65+', count: null },
    ],
    totals: {
      all: 70 + high,
      byTier: [
        { tier: 'low', count: 70 },
        { tier: 'high', count: high },
      ],
      byAgeBand: [
        { ageBand: '0-64', count: null },
        { ageBand: '65+', count: null },
      ],
    },
    suppressedCells: 2,
  };
}

describe('population reports and view over HTTP', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let a: TestSite;
  let b: TestSite;
  let v0: string;

  beforeAll(async () => {
    c = await startTestCoordinator();
    a = await enrollTestSite(c, 'Alpha');
    b = await enrollTestSite(c, 'Beta');
    const fed = (await (await operator(c, 'POST', routes.federations, { plan: testPlan() })).json()) as {
      id: string;
      latestVersionId: string;
    };
    v0 = fed.latestVersionId;
  });
  afterAll(async () => c.close());

  test('sites report per version; operators see totals and the vaccine-priority ranking', async () => {
    expect((await a.request('POST', routes.populationReports, report(v0, 12))).status).toBe(201);
    expect((await b.request('POST', routes.populationReports, report(v0, 33))).status).toBe(201);
    // A retry replaces, it does not double count.
    expect((await b.request('POST', routes.populationReports, report(v0, 33))).status).toBe(201);
    const view = (await (await operator(c, 'GET', routes.population)).json()) as {
      ranking: Array<{ name: string; highRisk: number }>;
      tiers: Array<{ tier: string; count: number }>;
    };
    expect(view.ranking.map((r) => [r.name, r.highRisk])).toEqual([
      ['Beta', 33],
      ['Alpha', 12],
    ]);
    expect(view.tiers).toEqual([
      { tier: 'low', count: 140, suppressedSites: 0 },
      { tier: 'high', count: 45, suppressedSites: 0 },
    ]);
  });

  test('a report with a released count below k is refused and nothing is stored', async () => {
    const bad = report(v0, 12);
    bad.cells[0] = { tier: 'low', ageBand: '0-64', count: 3 };
    const res = await a.request('POST', routes.populationReports, bad);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    const stored = await c.store.listPopulationReports({ versionId: v0 });
    expect(stored.find((r) => r.siteId === a.siteId)?.report).toMatchObject({
      cells: expect.arrayContaining([{ tier: 'low', ageBand: '0-64', count: 40 }]),
    });
  });

  test('an unknown version is 404', async () => {
    const res = await a.request('POST', routes.populationReports, report('fed-x.v9', 12));
    expect(res.status).toBe(404);
  });
});
