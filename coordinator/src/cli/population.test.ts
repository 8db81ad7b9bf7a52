import { routes } from '@twinfed/shared';
import { operator, startTestCoordinator, testPlan } from '../__tests__/harness';
import { run } from './__tests__/harness';

const view = {
  federationId: 'fed-1',
  versionIds: ['fed-1.v3'],
  sites: [
    {
      siteId: 's-a',
      name: 'Alpha',
      versionId: 'fed-1.v3',
      at: '2026-11-26T00:00:00.000Z',
      k: 10,
      epsilon: 1,
      total: 120,
      byTier: [
        { tier: 'low', count: 100 },
        { tier: 'high', count: 20 },
      ],
      highRisk: 20,
    },
    {
      siteId: 's-b',
      name: 'Beta',
      versionId: 'fed-1.v3',
      at: '2026-11-26T00:00:00.000Z',
      k: 10,
      epsilon: 1,
      total: null,
      byTier: [
        { tier: 'low', count: 50 },
        { tier: 'high', count: null },
      ],
      highRisk: null,
    },
  ],
  tiers: [
    { tier: 'low', count: 150, suppressedSites: 0 },
    { tier: 'high', count: 20, suppressedSites: 1 },
  ],
  cells: [],
  ranking: [
    { rank: 1, siteId: 's-a', name: 'Alpha', highRisk: 20 },
    { rank: 2, siteId: 's-b', name: 'Beta', highRisk: null },
  ],
};

describe('twinfed population', () => {
  test('prints the vaccine-priority ranking and shows suppressed counts as <k', async () => {
    const urls: string[] = [];
    const fetch = (async (url: string) => {
      urls.push(url);
      return new Response(JSON.stringify(view), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as unknown as typeof globalThis.fetch;
    const out = await run(
      ['--url', 'https://coord', '--token', 'tok-123456789', 'population', '--federation', 'fed-1'],
      { fetch },
    );
    expect(out.code).toBe(0);
    expect(urls[0]).toBe('https://coord/v1/population?federation=fed-1');
    const lines = out.stdout.split('\n');
    expect(lines.find((l) => l.includes('Alpha'))).toMatch(/1\s+Alpha\s+20\s+120/);
    expect(lines.find((l) => l.includes('Beta'))).toMatch(/2\s+Beta\s+<k\s+<k/);
  });

  test('a malformed answer is one error line', async () => {
    const fetch = (async () =>
      new Response(JSON.stringify({ nope: 1 }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      })) as unknown as typeof globalThis.fetch;
    const out = await run(['--url', 'https://coord', '--token', 'tok-123456789', 'population'], { fetch });
    expect(out.code).not.toBe(0);
    expect(out.stderr.trim().split('\n')[0]).toMatch(/^twinfed: .*\(INTERNAL\)$/);
  });
});

describe('twinfed population with no reports (against a real coordinator)', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  beforeAll(async () => {
    c = await startTestCoordinator();
  });
  afterAll(async () => c.close());
  const op = (...args: string[]) => run(['--url', c.url, '--token', c.operatorToken, ...args]);
  const create = async (plan: Record<string, unknown>) =>
    ((await (await operator(c, 'POST', routes.federations, { plan })).json()) as { id: string }).id;

  test('says why the view is empty: no federation, a plan without population settings, or no site reported yet', async () => {
    const none = await op('population');
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('Population view\nNo population reports: there is no federation yet.\n');

    const plain = await create(testPlan({ name: 'no population' }));
    const noSettings = await op('population');
    expect(noSettings.code).toBe(0);
    expect(noSettings.stdout).toBe(
      `Population view of ${plain}\n` +
        `No population reports: the plan of federation ${plain} has no population settings (data.population), so its sites do not report population counts.\n` +
        'Start a federation whose plan has data.population (and run the sites with --twins) to get this view.\n',
    );

    const twins = await create(
      testPlan({ name: 'with population', data: { features: ['a', 'b', 'c'], population: { k: 5 } } }),
    );
    const waiting = await op('population', '--federation', twins);
    expect(waiting.code).toBe(0);
    expect(waiting.stdout).toBe(
      `Population view of ${twins}\nNo population reports yet: only sites that run with --twins report population counts, after the first published version.\n`,
    );
    expect((await op('population', '--version', `${plain}.v0`)).stdout).toContain(
      `the plan of federation ${plain} has no population settings`,
    );

    const json = await op('--json', 'population', '--federation', twins);
    expect(JSON.parse(json.stdout)).toMatchObject({ federationId: twins, sites: [], ranking: [] });
  });
});
