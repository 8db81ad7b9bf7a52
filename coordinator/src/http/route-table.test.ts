import { api, generateToken, hashToken, METHODS, pathOf, routes } from '@twinfed/shared';
import { enrollTestSite, operator, startTestCoordinator, testPlan, type TestSite } from '../__tests__/harness';
import { routeTable } from './route-table';
import type { Role } from './auth';

/** A value for every path parameter of the contract (none of them exists: the matrix looks at 401/403 only). */
const NONE = {
  fid: 'fed-none',
  round: 1,
  vid: 'fed-none.v0',
  siteId: 'site-none',
  tokenId: 'tok-none',
  asset: 'app.js',
};

/** Walks every route × caller: a caller outside the route's roles gets 401/403; one inside never does. */
describe('route × role matrix', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let site: TestSite;
  let researcherToken: string;

  beforeAll(async () => {
    c = await startTestCoordinator();
    site = await enrollTestSite(c, 'Matrix');
    researcherToken = generateToken('tfr_');
    await c.store.createApiToken({
      id: 'tok-r',
      name: 'researcher',
      role: 'researcher',
      tokenHash: hashToken(researcherToken),
      createdAt: new Date().toISOString(),
    });
  });
  afterAll(async () => c.close());

  const table = routeTable({} as never);
  const callers: Array<Exclude<Role, 'public'> | 'anonymous'> = ['anonymous', 'site', 'operator', 'researcher'];

  test('the table has no duplicate method + path, and serves every operation of the contract', () => {
    const keys = table.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(table.length).toBe(Object.values(api).reduce((n, r) => n + METHODS.filter((m) => m in r).length, 0));
  });

  for (const route of table) {
    for (const caller of callers) {
      const allowed = route.roles.includes('public') || (caller !== 'anonymous' && route.roles.includes(caller));
      test(`${route.method.toUpperCase()} ${route.path} as ${caller} → ${allowed ? 'admitted' : 'refused'}`, async () => {
        const path = pathOf(route.path, NONE);
        const body = route.method === 'get' ? undefined : route.body === 'binary' ? new Uint8Array([0]) : {};
        let res: Response;
        if (caller === 'site') {
          res = await site.request(route.method.toUpperCase(), path, body);
        } else {
          const headers: Record<string, string> = {};
          if (caller === 'operator') headers.authorization = `Bearer ${c.operatorToken}`;
          if (caller === 'researcher') headers.authorization = `Bearer ${researcherToken}`;
          if (body !== undefined)
            headers['content-type'] = body instanceof Uint8Array ? 'application/octet-stream' : 'application/json';
          res = await fetch(c.url + path, {
            method: route.method.toUpperCase(),
            headers,
            ...(body === undefined ? {} : { body: body instanceof Uint8Array ? body : JSON.stringify(body) }),
          });
        }
        if (allowed) expect([401, 403]).not.toContain(res.status);
        else expect([401, 403]).toContain(res.status);
      });
    }
  }
});

/** A population report a member could post (valid: every released count ≥ k). */
const populationReport = (versionId: string) => ({
  versionId,
  at: new Date().toISOString(),
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
});

/**
 * The "site outside the federation" column: a site enrolled after a federation was created and never selected for
 * one of its rounds. Every site route but the site's own (`/v1/sites/self…`: its record, the federations offered to
 * it) is scoped to a federation (by :fid, by :vid or by the report's version) and refuses it with 403 NOT_A_MEMBER,
 * on a federation and a version that do exist.
 */
describe('route × role matrix: a site outside the federation', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let outsider: TestSite;
  let fid: string;
  let v0: string;

  beforeAll(async () => {
    c = await startTestCoordinator();
    await enrollTestSite(c, 'Member A');
    await enrollTestSite(c, 'Member B');
    const plan = testPlan({
      data: { features: ['a', 'b', 'c'], normalization: 'federated' },
      privacy: { secureAggregation: true },
    });
    const fed = (await (await operator(c, 'POST', routes.federations, { plan })).json()) as {
      id: string;
      latestVersionId: string;
    };
    fid = fed.id;
    v0 = fed.latestVersionId;
    outsider = await enrollTestSite(c, 'Outsider');
  });
  afterAll(async () => c.close());

  const siteRoutes = routeTable({} as never).filter(
    (r) => r.roles.includes('site') && r.path !== api.siteSelf.path && r.path !== api.siteFederations.path,
  );

  test('every site route but the site’s own (/v1/sites/self…) is federation-scoped', () => {
    expect(siteRoutes.length).toBeGreaterThanOrEqual(12);
    for (const r of siteRoutes)
      expect(r.path.includes(':fid') || r.path.includes(':vid') || r.path === api.populationReports.path).toBe(true);
  });

  test('GET /v1/sites/self/federations as a site outside the federation does not offer it', async () => {
    const res = await outsider.request('GET', routes.siteFederations);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { federations: unknown[] }).federations).toEqual([]);
  });

  for (const route of siteRoutes) {
    test(`${route.method.toUpperCase()} ${route.path} as a site outside the federation → 403 NOT_A_MEMBER`, async () => {
      const path = pathOf(route.path, { ...NONE, fid, vid: v0 });
      const body =
        route.method === 'get'
          ? undefined
          : route.body === 'binary'
            ? new Uint8Array([0])
            : route.path === api.populationReports.path
              ? populationReport(v0)
              : {};
      const res = await outsider.request(route.method.toUpperCase(), path, body);
      expect({ status: res.status, code: ((await res.json()) as { error?: { code?: string } }).error?.code }).toEqual({
        status: 403,
        code: 'NOT_A_MEMBER',
      });
    });
  }
});
