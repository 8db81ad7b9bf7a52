import { signCrossSiteMatrix, type CrossSiteMatrix } from '@twinfed/shared';
import { fakeCoordinatorCli, run } from './__tests__/harness';

const cli = fakeCoordinatorCli();
const op = cli.op;

const MATRIX: CrossSiteMatrix = {
  federationId: 'fed-1',
  globalVersionId: 'fed-1.v5',
  metric: 'auc',
  participants: ['site-a', 'site-b', 'site-c'],
  refused: ['site-d'],
  silent: [],
  columns: [
    { siteId: 'site-a', status: 'reported', n: 61 },
    { siteId: 'site-b', status: 'withheld', n: null },
    { siteId: 'site-c', status: 'missing', n: null },
  ],
  rows: [
    { model: 'global', siteId: null, values: [0.8123, null, null] },
    { model: 'local', siteId: 'site-a', values: [0.9, null, null] },
    { model: 'local', siteId: 'site-b', values: [null, null, null] },
    { model: 'local', siteId: 'site-c', values: [0.7, null, null] },
  ],
  completedAt: '2026-01-01T00:00:00.000Z',
};

function withCrossSite(matrix: unknown, state = 'complete'): void {
  cli.fake.setPlan({ ...cli.fake.federations[0]!.plan, crossSiteEvaluation: { deadlineSeconds: 60 } });
  cli.fake.canned.set('GET /v1/federations/fed-1/cross-site', {
    status: 200,
    body: {
      federationId: 'fed-1',
      state,
      candidates: ['site-a', 'site-b', 'site-c', 'site-d'],
      answered: ['site-a', 'site-b'],
      reported: [],
      modelsDeadlineAt: '2026-01-01T00:00:00.000Z',
      resultsDeadlineAt: null,
      matrix,
    },
  });
}

describe('federations report', () => {
  test('a plan without crossSiteEvaluation (nor recalibration) says so and asks nothing more', async () => {
    const r = await run(op('federations', 'report', 'fed-1'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Cross-site evaluation:\nnot asked for by the plan (crossSiteEvaluation)\n');
    expect(cli.fake.seen.map((s) => s.path).sort()).toEqual([
      '/v1/federations/fed-1',
      '/v1/federations/fed-1/evaluations',
    ]);
  });

  test('prints the signed matrix: model rows × site columns, n, withheld and missing columns, verified signature', async () => {
    withCrossSite(signCrossSiteMatrix(MATRIX, cli.fake.identity.sign.secretKey));
    const r = await run(op('federations', 'report', 'fed-1'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.slice(r.stdout.indexOf('Cross-site evaluation:')).split('\n');
    expect(lines[1]).toMatch(/^AUC of each model/);
    expect(lines[2]).toMatch(/^MODEL \\ TEST DATA\s+site-a\s+site-b\s+site-c$/);
    expect(lines[3]).toMatch(/^global fed-1\.v5\s+0\.812\s+withheld\s+missing$/);
    expect(lines[4]).toMatch(/^local site-a\s+0\.900\s+withheld\s+missing$/);
    expect(lines[5]).toMatch(/^local site-b\s+n\/a\s+withheld\s+missing$/);
    expect(lines[7]).toMatch(/^n \(test rows\)\s+61\s+withheld\s+missing$/);
    expect(r.stdout).toContain('refused by site policy: site-d\n');
    expect(r.stdout).toContain('signature verified with the coordinator key');
  });

  test('a matrix altered after signing is flagged', async () => {
    const signed = signCrossSiteMatrix(MATRIX, cli.fake.identity.sign.secretKey);
    withCrossSite({ ...signed, rows: signed.rows.map((r) => ({ ...r, values: r.values.map(() => 0.99) })) });
    const r = await run(op('federations', 'report', 'fed-1'));
    expect(r.stdout).toContain('signature DOES NOT VERIFY');
  });

  test('while it runs: the phase and how many sites have answered; --json gives the view', async () => {
    withCrossSite(null, 'models');
    const r = await run(op('federations', 'report', 'fed-1'));
    expect(r.stdout).toContain(
      'waiting for the sites’ sealed local models: 2 of 4 sites so far, deadline 2026-01-01T00:00:00.000Z\n',
    );
    const j = await run(op('federations', 'report', 'fed-1', '--json'));
    expect(JSON.parse(j.stdout)).toMatchObject({ federation: { id: 'fed-1' }, crossSite: { state: 'models' } });
  });
});
