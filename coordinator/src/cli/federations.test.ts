import path from 'node:path';
import { GOOD_PLAN, fakeCoordinatorCli, run, tableAfter, writePlanFile } from './__tests__/harness';

const cli = fakeCoordinatorCli();
const op = cli.op;
/** `twinfed federations create --plan <file>`, the file holding `plan` (an object as JSON, a string as is). */
const create = async (plan: unknown) => run(op('federations', 'create', '--plan', await writePlanFile(cli.dir, plan)));

describe('federations create', () => {
  test('validates the plan locally, sends it with defaults filled in and prints the new id', async () => {
    const r = await create(GOOD_PLAN);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(cli.fake.seen).toHaveLength(1);
    expect(cli.fake.seen[0]).toMatchObject({ method: 'POST', path: '/v1/federations' });
    expect((cli.fake.seen[0]?.body as { plan: Record<string, unknown> }).plan).toMatchObject({
      ...GOOD_PLAN,
      minSites: 1,
      roundDeadlineSeconds: 600,
    });
    expect(r.stdout).toContain(
      'Created federation fed-2 (heart-prox) in study default: 3 rounds of fedprox, state running.',
    );
    expect(r.stdout).toContain('twinfed federations status fed-2');
    expect(cli.fake.seen[0]?.body).not.toHaveProperty('study');
  });

  test('--study names the study the federation belongs to', async () => {
    const plan = await writePlanFile(cli.dir, GOOD_PLAN);
    const r = await run(op('federations', 'create', '--plan', plan, '--study', 'study-heart-0a1b2c'));
    expect(r.code).toBe(0);
    expect(cli.fake.seen[0]?.body).toMatchObject({ study: 'study-heart-0a1b2c' });
    expect(r.stdout).toContain('Created federation fed-2 (heart-prox) in study study-heart-0a1b2c:');
  });

  test('lists every problem of an invalid plan with its path, exits 2 and sends nothing', async () => {
    const bad = {
      ...GOOD_PLAN,
      model: { kind: 'logistic-regression', inputs: 3 },
      strategy: { name: 'fedsgd' },
      training: { steps: 1, epochs: 1 },
      rounds: 0,
      extra: true,
    };
    const file = await writePlanFile(cli.dir, bad);
    const r = await run(op('federations', 'create', '--plan', file));
    expect(r.code).toBe(2);
    expect(cli.fake.seen).toHaveLength(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`twinfed: The plan file ${file} is not a valid federation plan: 4 problems (INVALID_PLAN)`);
    expect(lines.slice(1)).toEqual([
      "  - strategy.name: Invalid discriminator value. Expected 'fedavg' | 'fedprox' | 'scaffold' | 'fedadam' | 'fedyogi' | 'fedadagrad' | 'cyclic' | 'fedmedian' | 'fedtrimmedavg' | 'krum' | 'geomed' | 'centeredclip'",
      '  - training: give exactly one of training.steps or training.epochs',
      '  - rounds: Too small: expected number to be >=1',
      '  - (root): Unrecognized key: "extra"',
    ]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('reports cross-field rules and array indices', async () => {
    const r = await create({
      ...GOOD_PLAN,
      data: { features: ['age', ''] },
      model: { kind: 'logistic-regression', inputs: 3 },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('  - data.features[1]: Too small: expected string to have >=1 characters\n');
    expect(r.stderr).toContain('  - model.inputs: model.inputs (3) must equal the number of data.features (2)\n');
  });

  test('reports a rule of an otherwise valid plan (robust strategy with secure aggregation)', async () => {
    const plan = { ...GOOD_PLAN, strategy: { name: 'fedmedian' }, privacy: { secureAggregation: true } };
    const r = await create(plan);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /: 1 problem \(INVALID_PLAN\)\n {2}- strategy\.name: fedmedian needs individual updates and cannot run with secure aggregation\n$/,
    );
  });

  test('a file that is not JSON exits 2 with one line', async () => {
    const file = await writePlanFile(cli.dir, '{ "name": ');
    const r = await run(op('federations', 'create', '--plan', file));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        `^twinfed: The plan file ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not valid JSON: .+ \\(INVALID_PLAN\\)\\n$`,
      ),
    );
  });

  test('a missing file exits 2', async () => {
    const r = await run(op('federations', 'create', '--plan', path.join(cli.dir, 'nope.json')));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `twinfed: Cannot read the plan file ${path.join(cli.dir, 'nope.json')} (ENOENT). (INVALID_PLAN)\n`,
    );
  });

  test('shows the issues of a server-side validation failure (details as an array)', async () => {
    cli.fake.canned.set('POST /v1/federations', {
      status: 400,
      body: {
        error: {
          code: 'VALIDATION_FAILED',
          message: 'The request does not match the expected schema.',
          details: [{ path: 'plan.rounds', message: 'too many' }],
        },
      },
    });
    const r = await create(GOOD_PLAN);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'twinfed: The request does not match the expected schema. (VALIDATION_FAILED)\n  - plan.rounds: too many\n',
    );
  });
});

describe('federations status', () => {
  test('without an id prints a table of federations', async () => {
    const r = await run(op('federations', 'status'));
    expect(r.code).toBe(0);
    const [head, row] = r.stdout.split('\n');
    expect(head).toMatch(/^ID\s+NAME\s+STUDY\s+STATE\s+ROUND\s+STRATEGY\s+LATEST VERSION\s+UPDATED$/);
    expect(row).toMatch(
      /^fed-1\s+heart-fedavg\s+default\s+running\s+2\/5\s+fedavg\s+fed-1\.v1\s+2025-01-02T03:04:05\.000Z$/,
    );
  });

  test('with an id prints the federation, its open round and its rounds in order with the sites’ metrics', async () => {
    const r = await run(op('federations', 'status', 'fed-1'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^federation:\s+fed-1$/m);
    expect(r.stdout).toMatch(/^model:\s+logistic-regression \(2 inputs\)$/m);
    expect(r.stdout).toMatch(/^round:\s+2 of 5$/m);
    expect(r.stdout).toMatch(
      /^open round:\s+2 \(collecting, 1\/2 received, base fed-1\.v1, deadline 2025-01-02T03:04:05\.000Z\)$/m,
    );
    expect(tableAfter(r.stdout, 'Rounds (')).toEqual([
      ['ROUND', 'STATE', 'RECEIVED', 'VERSION', 'EVALUATED', 'ACCURACY', 'AUC', 'FAILURE'],
      ['0', 'initial', '-', 'fed-1.v0', '0', '-', '-', '-'],
      ['1', 'published', '2/2', 'fed-1.v1', '1', '0.750 (0.750–0.750)', '0.812 (0.812–0.812)', '-'],
      ['2', 'collecting', '1/2', '-', '-', '-', '-', '-'],
    ]);
    expect(r.stdout).not.toContain('Per site');
    expect(cli.fake.seen.map((s) => s.path)).not.toContain('/v1/admin/sites');
  });

  test('counts the sites without a metric as n/a, and shows n/a alone when no site has it', async () => {
    cli.fake.evaluations.push(
      {
        versionId: 'fed-1.v1',
        siteId: 'site-b',
        n: 30,
        metrics: { accuracy: 0.65 },
        createdAt: '2025-01-02T03:04:05.000Z',
      },
      {
        versionId: 'fed-1.v0',
        siteId: 'site-b',
        n: 30,
        metrics: { accuracy: 0.5 },
        createdAt: '2025-01-02T03:04:05.000Z',
      },
    );
    const r = await run(op('federations', 'status', 'fed-1'));
    const rows = tableAfter(r.stdout, 'Rounds (');
    expect(rows[1]).toEqual(['0', 'initial', '-', 'fed-1.v0', '1', '0.500 (0.500–0.500)', 'n/a: 1', '-']);
    expect(rows[2]).toEqual([
      '1',
      'published',
      '2/2',
      'fed-1.v1',
      '2',
      '0.700 (0.650–0.750)',
      '0.812 (0.812–0.812); n/a: 1',
      '-',
    ]);
  });

  test('--sites adds the site × round table of accuracy/AUC; names from the server are escaped', async () => {
    cli.fake.evaluations.push({
      versionId: 'fed-1.v0',
      siteId: 'site-b',
      n: 30,
      metrics: { accuracy: 0.5, auc: 0.25 },
      createdAt: '2025-01-02T03:04:05.000Z',
    });
    cli.fake.sites[1]!.name = 'Evil\u001b[2J\u001b]0;owned\u0007\u009b31m';
    const r = await run(op('federations', 'status', 'fed-1', '--sites'));
    expect(r.code).toBe(0);
    // eslint-disable-next-line no-control-regex -- the test asserts that no control character reaches the output
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(tableAfter(r.stdout, 'Per site (')).toEqual([
      ['SITE', 'ID', 'R0', 'R1'],
      ['Evil\\x1b[2J\\x1b]0;owned\\x07\\x9b31m', 'site-b', '0.500/0.250', '-'],
      ['St Mary Hospital', 'site-a', '-', '0.750/0.812'],
    ]);
  });

  test('thins more than 20 rounds to the first, every k-th and the last; --all shows them all', async () => {
    const at = '2025-01-02T03:04:05.000Z';
    cli.fake.rounds = Array.from({ length: 30 }, (_, i) => ({
      federationId: 'fed-1',
      round: i + 1,
      state: 'published' as const,
      baseVersionId: `fed-1.v${i}`,
      selectedSiteIds: ['site-a'],
      selectedCount: 1,
      received: 1,
      openedAt: at,
      deadlineAt: at,
      closedAt: at,
      failureReason: null,
      versionId: `fed-1.v${i + 1}`,
    }));
    const r = await run(op('federations', 'status', 'fed-1'));
    expect(
      tableAfter(r.stdout, 'Rounds (')
        .slice(1)
        .map((row) => row[0]),
    ).toEqual(['0', '4', '8', '12', '16', '20', '24', '28', '30']);
    expect(r.stdout).toContain('(9 of 31 rounds shown: the first, every 4th and the last; --all shows every round)\n');
    const all = await run(op('federations', 'status', 'fed-1', '--all'));
    expect(
      tableAfter(all.stdout, 'Rounds (')
        .slice(1)
        .map((row) => row[0]),
    ).toEqual(Array.from({ length: 31 }, (_, i) => String(i)));
    expect(all.stdout).not.toContain('rounds shown');
    const json = JSON.parse((await run(op('federations', 'status', 'fed-1', '--json'))).stdout) as {
      progress: unknown[];
    };
    expect(json.progress).toHaveLength(31);
  });

  test('a DP federation shows its settings and the ε its rounds will spend', async () => {
    const created = await create({
      ...GOOD_PLAN,
      rounds: 15,
      privacy: { dp: { clip: 1, noiseMultiplier: 1.1, delta: 1e-5 } },
    });
    expect(created.code).toBe(0);
    expect(created.stderr).toMatch(/^warning: privacy\.dp has no maxEpsilon/m);
    const r = await run(op('federations', 'status', 'fed-2'));
    expect(r.stdout).toMatch(/^differential privacy:\s+clip 1, noise ×1\.1, δ 0\.00001: ε ≤ 20\.56 after 15 rounds$/m);
    expect(r.stdout).toMatch(/^secure aggregation:\s+off$/m);
  });

  test('--json gives the federation, its rounds and the per-round metric summaries (with --sites, each site’s values)', async () => {
    const r = await run(op('federations', 'status', 'fed-1', '--json'));
    const out = JSON.parse(r.stdout) as {
      federation: { id: string };
      rounds: Array<{ round: number }>;
      progress: Array<Record<string, unknown>>;
    };
    expect(out.federation.id).toBe('fed-1');
    expect(out.rounds.map((x) => x.round)).toEqual([1, 2]);
    expect(out.progress.map((p) => [p.round, p.state, p.versionId, p.evaluatedBy])).toEqual([
      [0, 'initial', 'fed-1.v0', 0],
      [1, 'published', 'fed-1.v1', 1],
      [2, 'collecting', null, 0],
    ]);
    expect(out.progress[1]!.metrics).toEqual({
      accuracy: { mean: 0.75, min: 0.75, max: 0.75, count: 1, missing: 0 },
      auc: { mean: 0.81234, min: 0.81234, max: 0.81234, count: 1, missing: 0 },
    });
    expect(out.progress[1]!.sites).toBeUndefined();
    const withSites = JSON.parse(
      (await run(op('federations', 'status', 'fed-1', '--json', '--sites'))).stdout,
    ) as typeof out;
    expect(withSites.progress[1]!.sites).toEqual([
      { siteId: 'site-a', name: 'St Mary Hospital', n: 40, metrics: { auc: 0.81234, accuracy: 0.75 } },
    ]);
  });

  test("with an id lists each site's decision on the current plan (name, decision, when), and says whether approval is required", async () => {
    const r = await run(op('federations', 'status', 'fed-1'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^plan approval:\s+not required: sites that rejected or revoked this plan are not selected$/m,
    );
    expect(r.stdout).toMatch(/^Plan decisions \(plan [0-9a-f]{16}…\)$/m);
    expect(tableAfter(r.stdout, 'Plan decisions (')).toEqual([
      ['SITE', 'ID', 'DECISION', 'DECIDED'],
      ['Charité', 'site-b', 'pending', '-'],
      ['St Mary Hospital', 'site-a', 'approved', '2025-01-02T03:04:05.000Z'],
    ]);
    const json = JSON.parse((await run(op('federations', 'status', 'fed-1', '--json'))).stdout) as {
      decisions: Array<{ siteId: string; siteName: string; decision: string; decidedAt: string | null }>;
    };
    expect(json.decisions.map((d) => [d.siteName, d.decision, d.decidedAt])).toEqual([
      ['St Mary Hospital', 'approved', '2025-01-02T03:04:05.000Z'],
      ['Charité', 'pending', null],
    ]);
  });

  test('an unknown federation is one line', async () => {
    const r = await run(op('federations', 'status', 'fed-9'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('twinfed: The federation does not exist. (UNKNOWN_FEDERATION)\n');
  });
});

describe('federations amend', () => {
  test('validates the new plan locally, sends it and says every site is pending again', async () => {
    await run(op('federations', 'create', '--plan', await writePlanFile(cli.dir, GOOD_PLAN)));
    const amended = { ...GOOD_PLAN, rounds: 9, minSites: 2, governance: { requireApprovals: true } };
    const r = await run(op('federations', 'amend', 'fed-2', '--plan', await writePlanFile(cli.dir, amended)));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(cli.fake.seen.at(-1)).toMatchObject({ method: 'PUT', path: '/v1/federations/fed-2/plan' });
    expect((cli.fake.seen.at(-1)?.body as { plan: unknown }).plan).toMatchObject(amended);
    expect(r.stdout).toMatch(
      /^Amended the plan of fed-2 \(heart-prox\): now [0-9a-f]{16}…, 9 rounds; every site's decision is pending again\.$/m,
    );
    expect(r.stdout).toContain('plan approval: required: a round opens only when at least 2 sites approved this plan');
    const json = JSON.parse(
      (await run(op('--json', 'federations', 'amend', 'fed-2', '--plan', await writePlanFile(cli.dir, amended))))
        .stdout,
    ) as { id: string; plan: { rounds: number } };
    expect([json.id, json.plan.rounds]).toEqual(['fed-2', 9]);
  });

  test('an invalid plan exits 2 and sends nothing; a started federation is one line with its code', async () => {
    const bad = await run(
      op('federations', 'amend', 'fed-1', '--plan', await writePlanFile(cli.dir, { ...GOOD_PLAN, rounds: 0 })),
    );
    expect(bad.code).toBe(2);
    expect(cli.fake.seen).toHaveLength(0);
    const started = await run(op('federations', 'amend', 'fed-1', '--plan', await writePlanFile(cli.dir, GOOD_PLAN)));
    expect(started.code).toBe(1);
    expect(started.stderr).toBe(
      'twinfed: The federation has started; its plan can no longer change. (FEDERATION_STARTED)\n',
    );
  });
});
