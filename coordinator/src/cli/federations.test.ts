import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fakeCoordinatorCli, run } from './__tests__/harness';

const cli = fakeCoordinatorCli();
const op = cli.op;
const GOOD = {
  name: 'heart-prox',
  model: { kind: 'logistic-regression', inputs: 2 },
  data: { features: ['age', 'chol'] },
  strategy: { name: 'fedprox', mu: 0.01 },
  training: { steps: 10 },
  rounds: 3,
};

async function planFile(content: unknown): Promise<string> {
  const file = path.join(cli.dir, 'plan.json');
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('federations create', () => {
  it('validates the plan locally, sends it with defaults filled in and prints the new id', async () => {
    const r = await run(op('federations', 'create', '--plan', await planFile(GOOD)));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(cli.fake.seen).toHaveLength(1);
    expect(cli.fake.seen[0]).toMatchObject({ method: 'POST', path: '/v1/federations' });
    expect((cli.fake.seen[0]?.body as { plan: Record<string, unknown> }).plan).toMatchObject({ ...GOOD, minSites: 1, roundDeadlineSeconds: 600 });
    expect(r.stdout).toContain('Created federation fed-2 (heart-prox): 3 rounds of fedprox, state running.');
    expect(r.stdout).toContain('twinfed federations status fed-2');
  });

  it('lists every problem of an invalid plan with its path, exits 2 and sends nothing', async () => {
    const bad = { ...GOOD, model: { kind: 'logistic-regression', inputs: 3 }, strategy: { name: 'fedsgd' }, training: { steps: 1, epochs: 1 }, rounds: 0, extra: true };
    const file = await planFile(bad);
    const r = await run(op('federations', 'create', '--plan', file));
    expect(r.code).toBe(2);
    expect(cli.fake.seen).toHaveLength(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`twinfed: The plan file ${file} is not a valid federation plan: 4 problems (INVALID_PLAN)`);
    expect(lines.slice(1)).toEqual([
      "  - strategy.name: Invalid discriminator value. Expected 'fedavg' | 'fedprox' | 'scaffold' | 'fedadam' | 'fedyogi' | 'fedadagrad' | 'cyclic' | 'fedmedian' | 'fedtrimmedavg' | 'krum'",
      '  - training: give exactly one of training.steps or training.epochs',
      '  - rounds: Too small: expected number to be >=1',
      '  - (root): Unrecognized key: "extra"',
    ]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports cross-field rules and array indices', async () => {
    const r = await run(op('federations', 'create', '--plan', await planFile({ ...GOOD, data: { features: ['age', ''] }, model: { kind: 'logistic-regression', inputs: 3 } })));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('  - data.features[1]: Too small: expected string to have >=1 characters\n');
    expect(r.stderr).toContain('  - model.inputs: model.inputs (3) must equal the number of data.features (2)\n');
  });

  it('reports a rule of an otherwise valid plan (robust strategy with secure aggregation)', async () => {
    const plan = { ...GOOD, strategy: { name: 'fedmedian' }, privacy: { secureAggregation: true } };
    const r = await run(op('federations', 'create', '--plan', await planFile(plan)));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/: 1 problem \(INVALID_PLAN\)\n {2}- strategy\.name: fedmedian needs individual updates and cannot run with secure aggregation\n$/);
  });

  it('a file that is not JSON exits 2 with one line', async () => {
    const file = await planFile('{ "name": ');
    const r = await run(op('federations', 'create', '--plan', file));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^twinfed: The plan file ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not valid JSON: .+ \\(INVALID_PLAN\\)\\n$`));
  });

  it('a missing file exits 2', async () => {
    const r = await run(op('federations', 'create', '--plan', path.join(cli.dir, 'nope.json')));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`twinfed: Cannot read the plan file ${path.join(cli.dir, 'nope.json')} (ENOENT). (INVALID_PLAN)\n`);
  });

  it('shows the issues of a server-side validation failure (details as an array)', async () => {
    cli.fake.canned.set('POST /v1/federations', {
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED', message: 'The request does not match the expected schema.', details: [{ path: 'plan.rounds', message: 'too many' }] } },
    });
    const r = await run(op('federations', 'create', '--plan', await planFile(GOOD)));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('twinfed: The request does not match the expected schema. (VALIDATION_FAILED)\n  - plan.rounds: too many\n');
  });
});

describe('federations status', () => {
  it('without an id prints a table of federations', async () => {
    const r = await run(op('federations', 'status'));
    expect(r.code).toBe(0);
    const [head, row] = r.stdout.split('\n');
    expect(head).toMatch(/^ID\s+NAME\s+STATE\s+ROUND\s+STRATEGY\s+LATEST VERSION\s+UPDATED$/);
    expect(row).toMatch(/^fed-1\s+heart-fedavg\s+running\s+2\/5\s+fedavg\s+fed-1\.v1\s+2025-01-02T03:04:05\.000Z$/);
  });

  it('with an id prints the federation and its rounds in order', async () => {
    const r = await run(op('federations', 'status', 'fed-1'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^federation:\s+fed-1$/m);
    expect(r.stdout).toMatch(/^model:\s+logistic-regression \(2 inputs\)$/m);
    expect(r.stdout).toMatch(/^round:\s+2 of 5$/m);
    const rounds = r.stdout.slice(r.stdout.indexOf('Rounds:\n') + 8).trimEnd().split('\n');
    expect(rounds[0]).toMatch(/^ROUND\s+STATE\s+BASE\s+RECEIVED/);
    expect(rounds[1]).toMatch(/^\s*1\s+published\s+fed-1\.v0\s+2\/2\s+\S+\s+fed-1\.v1\s+-$/);
    expect(rounds[2]).toMatch(/^\s*2\s+collecting\s+fed-1\.v1\s+1\/2\s+\S+\s+-\s+-$/);
  });

  it('a DP federation shows its settings and the ε its rounds will spend', async () => {
    const created = await run(op('federations', 'create', '--plan', await planFile({ ...GOOD, rounds: 15, privacy: { dp: { clip: 1, noiseMultiplier: 1.1, delta: 1e-5 } } })));
    expect(created.code).toBe(0);
    const r = await run(op('federations', 'status', 'fed-2'));
    expect(r.stdout).toMatch(/^differential privacy:\s+clip 1, noise ×1\.1, δ 0\.00001: ε ≤ 20\.56 after 15 rounds$/m);
    expect(r.stdout).toMatch(/^secure aggregation:\s+off$/m);
  });

  it('--json gives the federation and its rounds', async () => {
    const r = await run(op('federations', 'status', 'fed-1', '--json'));
    const out = JSON.parse(r.stdout) as { federation: { id: string }; rounds: Array<{ round: number }> };
    expect(out.federation.id).toBe('fed-1');
    expect(out.rounds.map((x) => x.round)).toEqual([1, 2]);
  });

  it('an unknown federation is one line', async () => {
    const r = await run(op('federations', 'status', 'fed-9'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('twinfed: The federation does not exist. (UNKNOWN_FEDERATION)\n');
  });
});
