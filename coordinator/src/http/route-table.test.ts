import { generateToken, hashToken } from '@twinfed/shared';
import { enrollTestSite, startTestCoordinator, type TestSite } from '../testing/harness';
import { routeTable } from './route-table';
import type { Role } from './auth';

/** Walks every route × caller: a caller outside the route's roles gets 401/403; one inside never does. */
describe('route × role matrix', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let site: TestSite;
  let researcherToken: string;

  beforeAll(async () => {
    c = await startTestCoordinator();
    site = await enrollTestSite(c, 'Matrix');
    researcherToken = generateToken('tfr_');
    await c.store.createApiToken({ id: 'tok-r', name: 'researcher', role: 'researcher', tokenHash: hashToken(researcherToken), createdAt: new Date().toISOString() });
  });
  afterAll(async () => c.close());

  const table = routeTable({} as never);
  const callers: Array<Exclude<Role, 'public'> | 'anonymous'> = ['anonymous', 'site', 'operator', 'researcher'];

  test('the table has no duplicate method + path', () => {
    const keys = table.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  for (const route of table) {
    for (const caller of callers) {
      const allowed = route.roles.includes('public') || (caller !== 'anonymous' && route.roles.includes(caller));
      test(`${route.method.toUpperCase()} ${route.path} as ${caller} → ${allowed ? 'admitted' : 'refused'}`, async () => {
        const path = route.path.replace(':fid', 'fed-none').replace(':round', '1').replace(':vid', 'fed-none.v0').replace(':siteId', 'site-none').replace(':tokenId', 'tok-none').replace(':asset', 'app.js');
        const body = route.method === 'post' ? (route.body === 'binary' ? new Uint8Array([0]) : {}) : undefined;
        let res: Response;
        if (caller === 'site') {
          res = await site.request(route.method.toUpperCase(), path, body);
        } else {
          const headers: Record<string, string> = {};
          if (caller === 'operator') headers.authorization = `Bearer ${c.operatorToken}`;
          if (caller === 'researcher') headers.authorization = `Bearer ${researcherToken}`;
          if (body !== undefined) headers['content-type'] = body instanceof Uint8Array ? 'application/octet-stream' : 'application/json';
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
