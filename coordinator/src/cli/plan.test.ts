import path from 'node:path';
import { PlanSchema, planEpsilon } from '@twinfed/shared';
import { GOOD_PLAN, fakeCoordinatorCli, run, writePlanFile } from './__tests__/harness';

const cli = fakeCoordinatorCli();

describe('twinfed plan', () => {
  test('schema prints the plan’s JSON Schema with descriptions and defaults, without contacting the coordinator', async () => {
    const r = await run(['--url', cli.fake.url, 'plan', 'schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as {
      title: string;
      required: string[];
      properties: Record<string, { description?: string; properties?: Record<string, { default?: unknown }> }>;
    };
    expect(schema.title).toBe('twinfed federation plan');
    expect(schema.required).toEqual(['name', 'model', 'data', 'strategy', 'training', 'rounds']);
    expect(schema.properties.rounds?.description).toMatch(/rounds/i);
    expect(schema.properties.data?.properties?.minExamplesPerSite?.default).toBe(20);
    expect(cli.fake.seen).toHaveLength(0);
  });

  test('check: a valid plan gets a short summary with the defaults filled in, exit 0, nothing sent', async () => {
    const r = await run(['--url', cli.fake.url, 'plan', 'check', await writePlanFile(cli.dir, GOOD_PLAN)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('a valid plan');
    expect(r.stdout).toMatch(/model: +logistic-regression \(2 inputs\)/);
    expect(r.stdout).toMatch(/strategy: +fedprox \(mu 0\.01, serverLr 1\)/);
    expect(r.stdout).toMatch(/training: +10 steps of sgd, batch 32, lr 0\.01/);
    expect(r.stdout).toMatch(/≥ 20 training rows per site/);
    expect(cli.fake.seen).toHaveLength(0);
    const json = await run(['--json', 'plan', 'check', await writePlanFile(cli.dir, GOOD_PLAN)]);
    expect(JSON.parse(json.stdout)).toEqual({ valid: true, plan: PlanSchema.parse(GOOD_PLAN) });
  });

  test('check: the summary says in words whether the sites must approve the plan before rounds open', async () => {
    const without = await run(['plan', 'check', await writePlanFile(cli.dir, GOOD_PLAN)]);
    expect(without.stdout).toMatch(
      /^plan approval: +not required: sites that rejected or revoked this plan are not selected$/m,
    );
    const required = await run([
      'plan',
      'check',
      await writePlanFile(cli.dir, { ...GOOD_PLAN, minSites: 2, governance: { requireApprovals: true } }),
    ]);
    expect(required.code).toBe(0);
    expect(required.stdout).toMatch(
      /^plan approval: +required: a round opens only when at least 2 sites approved this plan, and selects only among them$/m,
    );
  });

  test('check: an invalid plan lists every problem with its path and exits 2', async () => {
    const bad = {
      ...GOOD_PLAN,
      model: { kind: 'logistic-regression', inputs: 3 },
      strategy: { name: 'krum' },
      data: { features: ['age', 'chol'], minExamplesPerSite: 0 },
      minSites: 2,
    };
    const r = await run(['plan', 'check', await writePlanFile(cli.dir, bad)]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^twinfed: The plan file .* is not a valid federation plan: \d+ problems? \(INVALID_PLAN\)$/,
    );
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}- data\.minExamplesPerSite: /));
    expect(r.stderr).toMatch(/- model\.inputs: model\.inputs \(3\) must equal the number of data\.features \(2\)/);
    expect(r.stderr).toMatch(/- minSites: krum needs minSites ≥ 2·byzantine \+ 3/);
  });

  test('check: unreadable or non-JSON files are input errors (exit 2)', async () => {
    expect((await run(['plan', 'check', path.join(cli.dir, 'nope.json')])).code).toBe(2);
    const r = await run(['plan', 'check', await writePlanFile(cli.dir, '{ not json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not valid JSON/);
  });

  test('check: central DP without maxEpsilon is valid but warns on stderr (nothing caps ε); with it, no warning', async () => {
    const dp = { clip: 1, noiseMultiplier: 1.1, delta: 1e-5 };
    const r = await run([
      '--url',
      cli.fake.url,
      'plan',
      'check',
      await writePlanFile(cli.dir, { ...GOOD_PLAN, strategy: { name: 'fedavg' }, rounds: 15, privacy: { dp } }),
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^warning: privacy\.dp has no maxEpsilon: these 15 rounds spend ε = 20\.56 \(δ = 0\.00001\) and nothing caps it/m,
    );
    const capped = await run([
      '--url',
      cli.fake.url,
      'plan',
      'check',
      await writePlanFile(cli.dir, {
        ...GOOD_PLAN,
        strategy: { name: 'fedavg' },
        rounds: 15,
        privacy: { dp: { ...dp, maxEpsilon: 25 } },
      }),
    ]);
    expect(capped.code).toBe(0);
    expect(capped.stderr).toBe('');
  });

  test('check: distributed DP (secure aggregation + dp) shows the Skellam ε, the one the coordinator will sign', async () => {
    const plan = {
      ...GOOD_PLAN,
      strategy: { name: 'fedavg' },
      rounds: 15,
      minSites: 3,
      privacy: { secureAggregation: true, dp: { clip: 1, noiseMultiplier: 1.1, delta: 1e-5 } },
    };
    const eps = planEpsilon(PlanSchema.parse(plan))!;
    const r = await run(['--url', cli.fake.url, 'plan', 'check', await writePlanFile(cli.dir, plan)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `distributed (Skellam, noise added by the sites), clip 1, noise ×1.1, δ 0.00001: ε ≤ ${eps.toFixed(2)} after 15 rounds`,
    );
    expect(r.stderr).toContain(`these 15 rounds spend ε = ${eps.toFixed(2)}`);
    expect(eps.toFixed(2)).not.toBe('20.56'); // not the central (Gaussian) figure
  });
});
