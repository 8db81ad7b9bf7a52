/**
 * A tabular site end to end through the CLI: enroll, run one round against the fake coordinator, `export` the
 * verified version as a bundle with the site's own statistics, `predict` a CSV with it — the scores are the
 * product's own (predict() over the training z-scores) — and refuse tampered bundles and mismatched mappings.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyStandardizer, fitStandardizer, parseCsvDataset, predict } from '@twinfed/models';
import {
  DEFAULT_RISK_TIERS,
  SeededRandom,
  buildBundle,
  fingerprint,
  generateIdentity,
  publicPart,
  signModelVersion,
  tierOf,
  type BundleManifest,
} from '@twinfed/shared';
import { coordinatorFetch } from '../__tests__/coordinator-fetch';
import { FakeCoordinator, testPlan } from '../__tests__/fake-coordinator';
import { cli, enrollArgs, io, writeSitePolicy } from '../__tests__/cli';
import { loadLocalData } from '../cli/load-data';
import { loadEnrollment } from '../identity/load';
import { ModelStore } from '../training/model-store';

/** A CSV of patients (age, chol, thalach, target) with an id column; one row has a missing value. */
function patientsCsv(n: number): string {
  const rng = new SeededRandom(9);
  const lines = ['mrn,age,chol,thalach,target'];
  for (let i = 0; i < n; i++) {
    const age = Math.round(40 + 15 * rng.normal());
    const target = age + 6 * rng.normal() > 45 ? 1 : 0;
    lines.push(
      `MRN-${1000 + i},${age},${(200 + 30 * rng.normal()).toFixed(1)},${Math.round(150 + 15 * rng.normal())},${target}`,
    );
  }
  lines.push('MRN-9999,55,,140,1');
  return `${lines.join('\n')}\n`;
}

const trainMapping = {
  features: [
    { column: 'age', name: 'age' },
    { column: 'chol', name: 'chol' },
    { column: 'thalach', name: 'thalach' },
  ],
  label: { column: 'target', positive: [1] },
};

describe('twinfed-site export and predict', () => {
  let work: string;
  let dataDir: string;
  let bundleDir: string;
  let csvFile: string;
  let c: FakeCoordinator;
  const files: Record<string, string> = {};

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-bundle-cli-'));
    dataDir = path.join(work, 'site');
    csvFile = path.join(work, 'patients.csv');
    fs.writeFileSync(csvFile, patientsCsv(60));
    files.train = path.join(work, 'train-mapping.json');
    fs.writeFileSync(files.train, JSON.stringify(trainMapping));
    files.predict = path.join(work, 'predict-mapping.json');
    fs.writeFileSync(files.predict, JSON.stringify({ features: trainMapping.features, id: 'mrn' }));
    c = new FakeCoordinator(testPlan({ rounds: 1 }));
    const coord = coordinatorFetch(c);
    expect(await cli(enrollArgs(dataDir), io({ fetch: coord.fetch }).deps)).toBe(0);
    c.trust(loadEnrollment(dataDir));
    writeSitePolicy(dataDir, { autoApprove: true });
    const run = io({ fetch: coord.fetch });
    expect(
      await cli(
        [
          'run',
          '--federation',
          'fed-1',
          '--data',
          csvFile,
          '--mapping',
          files.train,
          '--data-dir',
          dataDir,
          '--no-push',
          '--poll-interval',
          '50',
          '--backend',
          'cpu',
        ],
        run.deps,
      ),
    ).toBe(0);
    bundleDir = path.join(work, 'bundle');
    const exp = io();
    expect(
      await cli(
        ['export', '--federation', 'fed-1', '--version', 'latest', '--out', bundleDir, '--data-dir', dataDir],
        exp.deps,
      ),
    ).toBe(0);
    expect(exp.out()).toMatch(
      /^Wrote bundle .*bundle: v1 \(federation fed-1, round 1\), normalisation per-site, statistics site\.\n$/,
    );
    expect(exp.err()).toMatch(/keep it inside the site/);
  }, 120_000);
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  const manifest = (dir = bundleDir) =>
    JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as BundleManifest;

  test('the site export carries the site’s own training statistics and the signed version', () => {
    const m = manifest();
    expect(m.exported).toMatchObject({ by: 'site', siteId: loadEnrollment(dataDir).state.siteId });
    expect(m.description.features.map((f) => f.name)).toEqual(['age', 'chol', 'thalach']);
    expect(m.description.version).toMatchObject({ id: 'v1', round: 1, parentVersionId: 'v0' });
    // The statistics are exactly those of this site's training split (the same loader and split `run` used).
    const local = loadLocalData({
      kind: 'csv',
      csvPath: csvFile,
      mappingPath: files.train!,
      testFraction: 0.34,
      splitSeed: 43,
    });
    const stats = fitStandardizer(local.dataset.train);
    expect(m.preprocessing).toMatchObject({ normalization: 'per-site', statistics: 'site', fill: null });
    expect(m.preprocessing.zScore!.mean).toEqual(stats.mean);
    expect(m.preprocessing.zScore!.std).toEqual(stats.std);
    expect(m.signature.meta.weightsSha256).toBe(c.versions.get('v1')!.meta.weightsSha256);
    expect(m.signature.coordinator.fingerprint).toBe(fingerprint(publicPart(c.identity)));
    // Written for this site only.
    expect(fs.statSync(bundleDir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(bundleDir, 'manifest.json')).mode & 0o777).toBe(0o600);
  });

  test('an unknown version is refused; only the latest verified one is kept', async () => {
    const t = io();
    expect(
      await cli(
        [
          'export',
          '--federation',
          'fed-1',
          '--version',
          'v0',
          '--out',
          path.join(work, 'other'),
          '--data-dir',
          dataDir,
        ],
        t.deps,
      ),
    ).toBe(1);
    expect(t.err()).toMatch(/which is v1, not v0.*\[NOT_FOUND\]\n$/);
    expect(fs.existsSync(path.join(work, 'other'))).toBe(false);
  });

  test('predict scores every complete row as the product does, with line, id, score and tier', async () => {
    const out = path.join(work, 'scores.csv');
    const t = io();
    expect(
      await cli(
        [
          'predict',
          '--model',
          bundleDir,
          '--data',
          csvFile,
          '--mapping',
          files.predict!,
          '--out',
          out,
          '--data-dir',
          dataDir,
        ],
        t.deps,
      ),
    ).toBe(0);
    expect(t.out()).toMatch(/^Scored 60 rows with v1 \(verified: pinned\); wrote .*scores\.csv\.\n$/);
    expect(t.err()).toBe('warning: 1 rows not scored (line 62: missing value in chol).\n');
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('line,mrn,score,tier');
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows).toHaveLength(60);
    // The product's scoring: the stored verified model over the CSV z-scored with the statistics training used.
    const stored = new ModelStore(dataDir, loadEnrollment(dataDir).coordinator.signPublicKey).load('fed-1')!;
    const parsed = parseCsvDataset({
      text: fs.readFileSync(csvFile, 'utf8'),
      features: trainMapping.features,
      label: trainMapping.label,
    });
    const x = applyStandardizer(parsed, stored.preprocessing!.standardizer!);
    const expected = await predict({ spec: stored.plan.model, weights: stored.weights, x: x.x, n: x.n });
    rows.forEach((r, i) => {
      expect(r[0]).toBe(String(i + 2));
      expect(r[1]).toBe(`MRN-${1000 + i}`);
      expect(Math.abs(Number(r[2]) - expected[i]!)).toBeLessThanOrEqual(1e-7);
      expect(r[3]).toBe(tierOf(expected[i]!, DEFAULT_RISK_TIERS));
    });
    expect(new Set(rows.map((r) => r[2])).size).toBeGreaterThan(10);
  });

  test('a mapping that names the features in another order is refused', async () => {
    const swapped = path.join(work, 'swapped.json');
    fs.writeFileSync(
      swapped,
      JSON.stringify({ features: [trainMapping.features[1], trainMapping.features[0], trainMapping.features[2]] }),
    );
    const t = io();
    expect(
      await cli(
        ['predict', '--model', bundleDir, '--data', csvFile, '--mapping', swapped, '--data-dir', dataDir],
        t.deps,
      ),
    ).toBe(1);
    expect(t.err()).toBe(
      'error: Feature 1 is "chol" in the mapping but "age" in the model: map the columns to the model\'s features in its order (age, chol, thalach). [FEATURE_MISMATCH]\n',
    );
    expect(t.out()).toBe('');
  });

  /** A copy of the bundle with one change. */
  function tampered(name: string, change: (dir: string, m: BundleManifest) => BundleManifest | void): string {
    const dir = path.join(work, `tampered-${name}`);
    fs.cpSync(bundleDir, dir, { recursive: true });
    const m = manifest(dir);
    const next = change(dir, m);
    if (next) fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(next));
    return dir;
  }

  const cases: Array<[string, (dir: string, m: BundleManifest) => BundleManifest | void, string]> = [
    [
      'weights byte',
      (dir) => {
        const f = path.join(dir, 'weights.twfw');
        const b = fs.readFileSync(f);
        b[b.length - 1]! ^= 1;
        fs.writeFileSync(f, b);
      },
      'MODEL_DIGEST_MISMATCH',
    ],
    [
      'tfjs shard',
      (dir) => {
        const f = path.join(dir, 'tfjs', 'group1-shard1of1.bin');
        const b = fs.readFileSync(f);
        b[0]! ^= 1;
        fs.writeFileSync(f, b);
      },
      'MODEL_DIGEST_MISMATCH',
    ],
    [
      'feature order in the description',
      (_d, m) => {
        const [a, b] = m.description.features;
        m.description.features = [{ ...b!, index: 0 }, { ...a!, index: 1 }, ...m.description.features.slice(2)];
        return m;
      },
      'BUNDLE_INVALID',
    ],
    [
      'feature order in plan and description together',
      (_d, m) => {
        m.plan.data.features = ['chol', 'age', 'thalach'];
        m.description.features = m.plan.data.features.map((name, index) => ({
          index,
          name,
          role: 'column' as const,
          derivation: null,
        }));
        return m;
      },
      'MODEL_SIGNATURE_INVALID',
    ],
    [
      'risk tiers',
      (_d, m) => {
        m.description.tiers.thresholds = [0.9, 0.95];
        return m;
      },
      'BUNDLE_INVALID',
    ],
    [
      'signed metrics',
      (_d, m) => {
        m.signature.meta.metrics = { ...m.signature.meta.metrics, accuracy: 0.99 };
        m.description.metrics = m.signature.meta.metrics;
        return m;
      },
      'MODEL_SIGNATURE_INVALID',
    ],
    [
      'normalisation policy',
      (_d, m) => {
        m.preprocessing.normalization = 'none';
        return m;
      },
      'BUNDLE_INVALID',
    ],
    ['not JSON', (dir) => fs.writeFileSync(path.join(dir, 'manifest.json'), '{'), 'BUNDLE_INVALID'],
  ];
  test.each(cases)('a bundle with a changed %s is refused with a stable code', async (name, change, code) => {
    const dir = tampered(name.replace(/\W+/g, '-'), change);
    const out = path.join(work, `out-${name.replace(/\W+/g, '-')}.csv`);
    const t = io();
    expect(
      await cli(
        [
          'predict',
          '--model',
          dir,
          '--data',
          csvFile,
          '--mapping',
          files.predict!,
          '--out',
          out,
          '--data-dir',
          dataDir,
        ],
        t.deps,
      ),
    ).toBe(1);
    expect(t.err()).toMatch(new RegExp(`^error: .* \\[${code}\\]\\n$`));
    expect(fs.existsSync(out)).toBe(false);
  });

  test('a bundle re-signed by another key: refused against the pinned key or a fingerprint, warned about otherwise', async () => {
    const forger = generateIdentity();
    const m = manifest();
    const keys = publicPart(forger);
    const forged = buildBundle({
      meta: m.signature.meta,
      signature: signModelVersion(m.signature.meta, forger.sign.secretKey),
      coordinator: { ...keys, fingerprint: fingerprint(keys) },
      plan: m.plan,
      weightsBytes: fs.readFileSync(path.join(bundleDir, 'weights.twfw')),
      weights: new ModelStore(dataDir, loadEnrollment(dataDir).coordinator.signPublicKey).load('fed-1')!.weights,
      statistics: { kind: 'site', mean: m.preprocessing.zScore!.mean, std: m.preprocessing.zScore!.std, rows: null },
      exportedBy: 'site',
      siteMetrics: null,
    });
    const dir = path.join(work, 'forged');
    for (const [rel, bytes] of forged.files) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), bytes);
    }
    const pinned = io();
    expect(
      await cli(
        ['predict', '--model', dir, '--data', csvFile, '--mapping', files.predict!, '--data-dir', dataDir],
        pinned.deps,
      ),
    ).toBe(1);
    expect(pinned.err()).toMatch(/not by the coordinator this site is enrolled with\. \[MODEL_SIGNATURE_INVALID\]\n$/);
    const elsewhere = path.join(work, 'not-enrolled');
    const fp = io();
    expect(
      await cli(
        [
          'predict',
          '--model',
          dir,
          '--data',
          csvFile,
          '--mapping',
          files.predict!,
          '--fingerprint',
          fingerprint(publicPart(c.identity)),
          '--data-dir',
          elsewhere,
        ],
        fp.deps,
      ),
    ).toBe(1);
    expect(fp.err()).toMatch(/\[MODEL_SIGNATURE_INVALID\]\n$/);
    const bare = io();
    expect(
      await cli(
        ['predict', '--model', dir, '--data', csvFile, '--mapping', files.predict!, '--data-dir', elsewhere],
        bare.deps,
      ),
    ).toBe(0);
    expect(bare.err()).toMatch(
      /^warning: The signature was checked against the coordinator key inside the bundle \(fingerprint [0-9a-f-]+\) only/,
    );
    expect(bare.out().split('\n')[0]).toBe('line,mrn,score,tier');
  });
});
