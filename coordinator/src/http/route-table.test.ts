import { api, generateToken, hashToken, METHODS, pathOf, routes } from '@twinfed/shared';
import { enrollTestSite, json, operator, startTestCoordinator, testPlan, type TestSite } from '../__tests__/harness';
import { populationReport } from '../__tests__/population-report';
import { routeTable } from './route-table';
import type { Role } from './auth';

/** A value for every path parameter of the contract (none of them exists: the matrix looks at 401/403 only). */
const NONE = {
  fid: 'fed-none',
  round: 1,
  vid: 'fed-none.v0',
  siteId: 'site-none',
  tokenId: 'tok-none',
  studyId: 'study-none',
  qid: 'cq-none',
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

/**
 * The "site outside the federation" column: a site enrolled after a federation was created and never selected for
 * one of its rounds. Every site route but the site's own (`/v1/sites/self…`: its record, the federations offered to
 * it), its decision about a running federation's plan (which every enrolled site is offered, since selection may draw
 * it) and the cohort statistics routes (a query belongs to a study, not a federation: every enrolled site may see and
 * answer it) is scoped to a federation (by :fid, by :vid or by the report's version) and refuses it with 403
 * NOT_A_MEMBER, on a federation and a version that do exist.
 */
const NOT_FEDERATION_SCOPED: readonly string[] = [
  api.siteSelf.path,
  api.siteFederations.path,
  api.sitePrivacy.path,
  api.federationDecision.path,
  api.siteCohortQueries.path,
  api.cohortAnswers.path,
  api.cohortPool.path,
];

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
    (r) => r.roles.includes('site') && !NOT_FEDERATION_SCOPED.includes(r.path),
  );

  test('every site route but the site’s own (/v1/sites/self…) and the cohort statistics routes is federation-scoped', () => {
    expect(siteRoutes.length).toBeGreaterThanOrEqual(12);
    for (const r of siteRoutes)
      expect(r.path.includes(':fid') || r.path.includes(':vid') || r.path === api.populationReports.path).toBe(true);
  });

  test('GET /v1/sites/self/federations offers a site outside the federation its running plan (selection may draw it)', async () => {
    const res = await outsider.request('GET', routes.siteFederations);
    expect(res.status).toBe(200);
    const offered = (await res.json()) as { federations: Array<{ federation: { id: string } }> };
    expect(offered.federations.map((o) => o.federation.id)).toEqual([fid]);
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

/**
 * The scope column: two studies, A and B, each with a federation (its v0, a population report, a site taking part),
 * and a researcher token of study A. Every reader route that names a federation, a version or a study answers A's
 * with 200 and B's exactly as it answers an id that does not exist (same 404 and body), so B's ids do not leak; every
 * reader list holds A's resources and none of B's; the operator sees both.
 */
describe('route × role matrix: a researcher scoped to one study', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let researcherA: string;
  const a = { studyId: '', fid: '', vid: '', siteId: '', qid: '' };
  const b = { studyId: '', fid: '', vid: '', siteId: '', qid: '' };

  const get = async (token: string, p: string) => {
    const res = await fetch(c.url + p, { headers: { authorization: `Bearer ${token}` } });
    const body = Buffer.from(await res.arrayBuffer()).toString('latin1');
    return { status: res.status, body };
  };
  const federation = async (study: string, site: TestSite) => {
    // Federated normalisation, recalibration and a cross-site evaluation, so their federation-scoped reader routes
    // (…/normalization, …/recalibration, …/cross-site) answer.
    const plan = testPlan({
      data: { features: ['a', 'b', 'c'], normalization: 'federated' },
      recalibration: { method: 'platt' },
      crossSiteEvaluation: { deadlineSeconds: 60 },
    });
    const fed = await json<{ id: string; latestVersionId: string }>(
      operator(c, 'POST', routes.federations, { plan, study }),
    );
    const report = await site.request('POST', routes.populationReports, populationReport(fed.latestVersionId));
    if (report.status !== 201) throw new Error(`population report: ${report.status}`);
    return { fid: fed.id, vid: fed.latestVersionId };
  };

  beforeAll(async () => {
    c = await startTestCoordinator();
    a.studyId = (await json<{ id: string }>(operator(c, 'POST', routes.studies, { name: 'Study A' }))).id;
    b.studyId = (await json<{ id: string }>(operator(c, 'POST', routes.studies, { name: 'Study B' }))).id;
    // Site A is enrolled before both federations (it takes part in both), site B only before B's.
    const siteA = await enrollTestSite(c, 'Site A');
    Object.assign(a, await federation(a.studyId, siteA), { siteId: siteA.siteId });
    const siteB = await enrollTestSite(c, 'Site B');
    Object.assign(b, await federation(b.studyId, siteB), { siteId: siteB.siteId });
    for (const x of [a, b]) {
      // Pooled securely, so its pool (GET …/pool) exists to read.
      const query = { title: 'scope', source: { kind: 'csv' }, summaries: { features: ['age'], pooled: 'secure' } };
      x.qid = (await json<{ id: string }>(operator(c, 'POST', routes.cohortQueries, { studyId: x.studyId, query }))).id;
    }
    researcherA = (
      await json<{ token: string }>(
        operator(c, 'POST', routes.tokens, { name: 'Researcher A', role: 'researcher', studies: [a.studyId] }),
      )
    ).token;
  });
  afterAll(async () => c.close());

  const readers = routeTable({} as never).filter((r) => r.roles.includes('researcher'));
  const scopedByPath = readers.filter((r) => /\/:(fid|vid|studyId|qid)(\/|$)/.test(r.path));
  /** Reader routes that list: each filters to the caller's studies (checked below, with and without its filters). */
  const LISTS: string[] = [
    api.federations,
    api.models,
    api.population,
    api.adminSites,
    api.studies,
    api.cohortQueries,
    api.privacyLedger, // filtered by visibleFederations; its researcher test is http/privacy-ledger.test.ts
  ].map((r) => r.path);
  /** Process-wide counters with no federation, version, site or study in them (see docs/decisions.md). */
  const UNSCOPED: string[] = [api.metrics.path];

  test('every reader route is scoped by its path, filtered as a list, or declared unscoped', () => {
    expect(scopedByPath.length).toBeGreaterThanOrEqual(8);
    for (const r of readers) {
      const kinds = [scopedByPath.includes(r), LISTS.includes(r.path), UNSCOPED.includes(r.path)];
      expect({ route: `${r.method} ${r.path}`, kinds: kinds.filter(Boolean).length }).toEqual({
        route: `${r.method} ${r.path}`,
        kinds: 1,
      });
    }
  });

  for (const route of scopedByPath) {
    test(`GET ${route.path}: A's → 200, B's → the 404 of a missing one (researcher of A); both 200 for the operator`, async () => {
      const at = (x: typeof a) =>
        pathOf(route.path, { ...NONE, fid: x.fid, vid: x.vid, studyId: x.studyId, qid: x.qid });
      const own = await get(researcherA, at(a));
      const other = await get(researcherA, at(b));
      const missing = await get(researcherA, pathOf(route.path, NONE));
      expect(own.status).toBe(200);
      expect(missing.status).toBe(404);
      expect(other).toEqual(missing);
      expect(JSON.parse(other.body)).toEqual({
        error: {
          code: route.path.includes(':vid')
            ? 'UNKNOWN_MODEL_VERSION'
            : route.path.includes(':fid')
              ? 'UNKNOWN_FEDERATION'
              : route.path.includes(':qid')
                ? 'NOT_FOUND'
                : 'UNKNOWN_STUDY',
          message: expect.any(String),
        },
      });
      expect((await get(c.operatorToken, at(b))).status).toBe(200);
    });
  }

  const lists: Array<[string, (x: typeof a) => string]> = [
    ['federations', () => routes.federations],
    ['models', () => routes.models],
    ['models of a federation', (x) => `${routes.models}?federation=${x.fid}`],
    ['population (default federation)', () => routes.population],
    ['population of a federation', (x) => `${routes.population}?federation=${x.fid}`],
    ['population of a version', (x) => `${routes.population}?version=${x.vid}`],
    ['sites', () => routes.adminSites],
    ['studies', () => routes.studies],
    ['cohort queries', () => routes.cohortQueries],
    ['cohort queries of a study', (x) => `${routes.cohortQueries}?study=${x.studyId}`],
  ];
  for (const [name, p] of lists) {
    test(`list ${name}: the researcher of A sees A's and none of B's; the operator sees B's`, async () => {
      const mine = await get(researcherA, p(a));
      expect(mine.status).toBe(200);
      expect(mine.body).not.toContain(b.fid);
      expect(mine.body).not.toContain(b.studyId);
      expect(mine.body).not.toContain(b.siteId);
      expect([a.fid, a.studyId, a.siteId].some((x) => mine.body.includes(x))).toBe(true);
      const operatorSees = (await get(c.operatorToken, p(b))).body;
      expect([b.fid, b.studyId, b.siteId].some((x) => operatorSees.includes(x))).toBe(true);
    });
  }

  test("a list filter naming B's federation or version answers as one naming an id that does not exist", async () => {
    for (const [param, theirs, none] of [
      [`${routes.models}?federation=`, b.fid, 'fed-none'],
      [`${routes.population}?federation=`, b.fid, 'fed-none'],
      [`${routes.population}?version=`, b.vid, 'fed-none.v0'],
      [`${routes.cohortQueries}?study=`, b.studyId, 'study-none'],
    ] as const) {
      const answer = await get(researcherA, param + theirs);
      const missing = await get(researcherA, param + none);
      // The population view echoes the federation asked for, whatever it is: the caller's own input.
      expect(answer).toEqual({ ...missing, body: missing.body.replaceAll(none, theirs) });
      expect((await get(c.operatorToken, param + theirs)).body).not.toEqual(answer.body);
    }
  });
});
