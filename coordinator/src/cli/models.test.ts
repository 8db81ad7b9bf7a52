import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  openBundle,
  sha256Hex,
  signCrossSiteMatrix,
  verifyBundle,
  type BundleManifest,
  type CrossSiteMatrix,
} from '@twinfed/shared';
import { fakeCoordinatorCli, run } from './__tests__/harness';

const cli = fakeCoordinatorCli();
const op = cli.op;

describe('models list', () => {
  test('filters by federation and prints a table', async () => {
    const r = await run(op('models', 'list', '--federation', 'fed-1'));
    expect(r.code).toBe(0);
    expect(cli.fake.seen[0]?.path).toBe('/v1/models?federation=fed-1');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^VERSION\s+FEDERATION\s+ROUND\s+PARENT\s+STRATEGY\s+SITES\s+METRICS\s+CREATED$/);
    expect(lines[1]).toMatch(/^fed-1\.v0\s+fed-1\s+0\s+-\s+fedavg\s+0\s+-\s+\S+$/);
    expect(lines[2]).toMatch(/^fed-1\.v1\s+fed-1\s+1\s+fed-1\.v0\s+fedavg\s+2\s+accuracy=0\.7 loss=0\.6123\s+\S+$/);
  });

  test('without a filter asks for all versions', async () => {
    await run(op('models', 'list', '--json'));
    expect(cli.fake.seen[0]?.path).toBe('/v1/models');
  });
});

describe('models show', () => {
  test('shows meta, lineage, a verified signature with the signer fingerprint and evaluations per site', async () => {
    const r = await run(op('models', 'show', 'fed-1.v1'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^contributors:\s+site-a \(120\), site-b \(80\)$/m);
    expect(r.stdout).toMatch(/^parent:\s+fed-1\.v0$/m);
    expect(r.stdout).toMatch(/^signature:\s+\S{24}… valid$/m);
    expect(r.stdout).toMatch(new RegExp(`^signer key:\\s+${cli.fake.keys.fingerprint}$`, 'm'));
    expect(r.stdout).toContain('Lineage (newest first):\n  fed-1.v1 ← fed-1.v0\n');
    expect(r.stdout).toMatch(/^site-a\s+40\s+accuracy=0\.75 auc=0\.8123\s+\S+$/m);
  });

  test("prints each calibrated site's ECE and reliability table, withheld and empty bins marked", async () => {
    const r0 = await run(op('models', 'show', 'fed-1.v1'));
    expect(r0.stdout).toContain('Calibration per site (reliability, 10 bins):\n(no site has reported a calibration)\n');
    const empty = { n: 0, meanPredicted: null, observedRate: null };
    cli.fake.evaluations.push({
      versionId: 'fed-1.v1',
      siteId: 'site-b',
      n: 60,
      metrics: { auc: 0.7 },
      calibration: {
        ece: 0.04321,
        bins: [
          { n: 30, meanPredicted: 0.0512, observedRate: 0.1 },
          { n: 3, meanPredicted: null, observedRate: null },
          ...Array.from({ length: 7 }, () => empty),
          { n: 27, meanPredicted: 0.93, observedRate: 0.888889 },
        ],
      },
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    const r = await run(op('models', 'show', 'fed-1.v1'));
    expect(r.code).toBe(0);
    const tail = r.stdout.slice(r.stdout.indexOf('Calibration per site'));
    expect(tail).not.toContain('site-a:');
    const lines = tail.trimEnd().split('\n');
    expect(lines[1]).toBe('site-b: ECE 0.043 (n=60)');
    expect(lines[2]).toMatch(/^ {2}BIN\s+N\s+MEAN P\s+OBSERVED$/);
    expect(lines[3]).toMatch(/^ {2}0\.0-0\.1\s+30\s+0\.051\s+0\.100$/);
    expect(lines[4]).toMatch(/^ {2}0\.1-0\.2\s+3\s+withheld\s+withheld$/);
    expect(lines[5]).toMatch(/^ {2}0\.2-0\.3\s+0\s+-\s+-$/);
    expect(lines[12]).toMatch(/^ {2}0\.9-1\.0\s+27\s+0\.930\s+0\.889$/);
    expect(lines).toHaveLength(13);
    const json = await run(op('models', 'show', 'fed-1.v1', '--json'));
    expect(JSON.stringify(JSON.parse(json.stdout))).toContain('"ece":0.04321');
  });

  test('flags metadata whose signature does not verify', async () => {
    const v = cli.fake.versions[1]!;
    v.meta = { ...v.meta, metrics: { ...v.meta.metrics, accuracy: 0.99 } };
    const r = await run(op('models', 'show', 'fed-1.v1', '--json'));
    const out = JSON.parse(r.stdout) as { signatureValid: boolean; lineage: string[]; signer: { fingerprint: string } };
    expect(out.signatureValid).toBe(false);
    expect(out.lineage).toEqual(['fed-1.v1', 'fed-1.v0']);
    expect(out.signer.fingerprint).toBe(cli.fake.keys.fingerprint);
  });

  test("the global model of the federation's cross-site evaluation shows the signed matrix; other versions do not", async () => {
    const matrix: CrossSiteMatrix = {
      federationId: 'fed-1',
      globalVersionId: 'fed-1.v1',
      metric: 'auc',
      participants: ['site-a', 'site-b'],
      refused: [],
      silent: [],
      columns: [
        { siteId: 'site-a', status: 'reported', n: 40 },
        { siteId: 'site-b', status: 'reported', n: 55 },
      ],
      rows: [
        { model: 'global', siteId: null, values: [0.81, 0.77] },
        { model: 'local', siteId: 'site-a', values: [0.84, 0.69] },
        { model: 'local', siteId: 'site-b', values: [0.7, 0.8] },
      ],
      completedAt: '2026-01-01T00:00:00.000Z',
    };
    cli.fake.setPlan({ ...cli.fake.federations[0]!.plan, crossSiteEvaluation: { deadlineSeconds: 60 } });
    cli.fake.canned.set('GET /v1/federations/fed-1/cross-site', {
      status: 200,
      body: {
        federationId: 'fed-1',
        state: 'complete',
        candidates: ['site-a', 'site-b'],
        answered: ['site-a', 'site-b'],
        reported: ['site-a', 'site-b'],
        modelsDeadlineAt: '2026-01-01T00:00:00.000Z',
        resultsDeadlineAt: '2026-01-01T00:00:00.000Z',
        matrix: signCrossSiteMatrix(matrix, cli.fake.identity.sign.secretKey),
      },
    });
    const r = await run(op('models', 'show', 'fed-1.v1'));
    expect(r.stderr).toBe('');
    const section = r.stdout.slice(r.stdout.indexOf('Cross-site evaluation (this version is its global model):'));
    expect(section).toMatch(/^global fed-1\.v1\s+0\.810\s+0\.770$/m);
    expect(section).toMatch(/^local site-a\s+0\.840\s+0\.690$/m);
    expect(section).toContain('signature verified with the coordinator key');
    const parent = await run(op('models', 'show', 'fed-1.v0'));
    expect(parent.stdout).not.toContain('Cross-site evaluation');
  });

  test('an unknown version is one line', async () => {
    const r = await run(op('models', 'show', 'nope'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('twinfed: The model version does not exist. (UNKNOWN_MODEL_VERSION)\n');
  });
});

describe('models export', () => {
  const manifestOf = async (dir: string) =>
    JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as BundleManifest;

  test('writes a bundle: signed weights, tfjs files and a manifest that verifies offline', async () => {
    const out = path.join(cli.dir, 'bundle');
    const r = await run(op('models', 'export', 'fed-1.v1', '--out', out));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Wrote bundle ${out} (fed-1.v1`);
    // per-site normalisation: the coordinator has no site's statistics and says so.
    expect(r.stdout).toMatch(/warning: The plan normalises per site: this bundle carries no statistics/);
    expect((await readdir(out)).sort()).toEqual(['manifest.json', 'tfjs', 'weights.twfw']);
    expect((await readdir(path.join(out, 'tfjs'))).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
    const bytes = new Uint8Array(await readFile(path.join(out, 'weights.twfw')));
    expect(Buffer.from(bytes).equals(Buffer.from(cli.fake.weights.get('fed-1.v1')!))).toBe(true);
    const m = await manifestOf(out);
    expect(m.description.features.map((f) => f.name)).toEqual(['age', 'chol']);
    expect(m.description.model.spec).toEqual({ kind: 'logistic-regression', inputs: 2 });
    expect(m.description.lineage.contributors).toEqual([
      { siteId: 'site-a', numExamples: 120 },
      { siteId: 'site-b', numExamples: 80 },
    ]);
    expect(m.description.tiers).toMatchObject({
      thresholds: [0.2, 0.5],
      names: ['low', 'medium', 'high'],
      source: 'default',
    });
    expect(m.preprocessing).toMatchObject({ normalization: 'per-site', statistics: 'absent', zScore: null });
    expect(m.siteMetrics).toEqual([
      { siteId: 'site-a', n: 40, metrics: { auc: 0.81234, accuracy: 0.75 }, createdAt: expect.any(String) },
    ]);
    expect(m.ancestors).toEqual(['fed-1.v0']);
    expect(m.files.weights.sha256).toBe(sha256Hex(bytes));
    expect(m.signature.value).toBe(cli.fake.versions[1]!.signature);
    expect(m.signature.coordinator.fingerprint).toBe(cli.fake.keys.fingerprint);
    const verified = verifyBundle(openBundle(out), { fingerprint: cli.fake.keys.fingerprint });
    expect(verified.meta.versionId).toBe('fed-1.v1');
    expect(verified.warnings).toEqual([]);
  });

  test('a federated-normalisation bundle carries the pooled statistics, and waits for them', async () => {
    cli.fake.setPlan({
      ...cli.fake.federations[0]!.plan,
      data: { features: ['age', 'chol'], normalization: 'federated' },
    });
    const out = path.join(cli.dir, 'fed');
    const waiting = await run(op('models', 'export', 'fed-1.v1', '--out', out));
    expect(waiting.code).toBe(1);
    expect(waiting.stderr).toMatch(
      /pooled statistics are not complete \(1 of 2 sites contributed\); nothing was written\. \(NOT_READY\)/,
    );
    expect(await readdir(cli.dir)).toEqual([]);
    cli.fake.normalization = {
      federationId: 'fed-1',
      state: 'ready',
      contributed: 2,
      cohort: 2,
      rows: 200,
      mean: [54.5, 230.25],
      std: [9.5, 51],
    };
    const r = await run(op('models', 'export', 'fed-1.v1', '--out', out, '--json'));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      versionId: 'fed-1.v1',
      normalization: 'federated',
      statistics: 'federated-pooled',
      warnings: [],
    });
    const m = await manifestOf(out);
    expect(m.preprocessing).toMatchObject({
      normalization: 'federated',
      statistics: 'federated-pooled',
      zScore: { mean: [54.5, 230.25], std: [9.5, 51], epsilon: 1e-9, rows: 200 },
    });
    expect(verifyBundle(openBundle(out)).trust).toBe('bundle-key');
  });

  test('refuses weights that do not match the digest in the metadata and writes nothing', async () => {
    const good = cli.fake.weights.get('fed-1.v1')!;
    const tampered = Uint8Array.from(good);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0xff;
    cli.fake.weights.set('fed-1.v1', tampered);
    const r = await run(op('models', 'export', 'fed-1.v1', '--out', path.join(cli.dir, 'bundle')));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^twinfed: The downloaded weights of fed-1\.v1 have sha256 [0-9a-f]{16}… but the version metadata says [0-9a-f]{16}…; nothing was written\. \(MODEL_DIGEST_MISMATCH\)\n$/,
    );
    expect(await readdir(cli.dir)).toEqual([]);
  });

  test('refuses a version whose digest was changed consistently but whose signature no longer verifies', async () => {
    const tampered = Uint8Array.from(cli.fake.weights.get('fed-1.v1')!);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0xff;
    const v = cli.fake.versions[1]!;
    v.weightsSha256 = sha256Hex(tampered);
    v.meta = { ...v.meta, weightsSha256: v.weightsSha256 };
    cli.fake.weights.set('fed-1.v1', tampered);
    const r = await run(op('models', 'export', 'fed-1.v1', '--out', path.join(cli.dir, 'bundle')));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `twinfed: Version fed-1.v1: the signature does not verify against coordinator key ${cli.fake.keys.fingerprint}; nothing was written. (MODEL_SIGNATURE_INVALID)\n`,
    );
    expect(await readdir(cli.dir)).toEqual([]);
  });

  test('refuses a federation plan that is not the one signed into the version', async () => {
    cli.fake.federations[0]!.plan = {
      ...cli.fake.federations[0]!.plan,
      data: { ...cli.fake.federations[0]!.plan.data, features: ['chol', 'age'] },
    };
    const r = await run(op('models', 'export', 'fed-1.v1', '--out', path.join(cli.dir, 'bundle')));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'twinfed: The plan of federation fed-1 is not the plan signed into fed-1.v1; nothing was written. (MODEL_SIGNATURE_INVALID)\n',
    );
    expect(await readdir(cli.dir)).toEqual([]);
  });

  test('does not overwrite a non-empty directory without --force', async () => {
    const out = path.join(cli.dir, 'bundle');
    await mkdir(out);
    await writeFile(path.join(out, 'keep'), 'keep');
    const r = await run(op('models', 'export', 'fed-1.v0', '--out', out));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `twinfed: ${out} already exists and is not empty; pass --force to replace it. (ALREADY_EXISTS)\n`,
    );
    expect(await readFile(path.join(out, 'keep'), 'utf8')).toBe('keep');
    const forced = await run(op('models', 'export', 'fed-1.v0', '--out', out, '--force', '--json'));
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ versionId: 'fed-1.v0', dir: out });
    expect((await readdir(out)).sort()).toEqual(['manifest.json', 'tfjs', 'weights.twfw']);
    expect((await readdir(cli.dir)).sort()).toEqual(['bundle']);
  });
});
