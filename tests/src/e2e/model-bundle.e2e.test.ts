/**
 * Model bundles from a real federation: a coordinator and two heart-disease sites (separate processes on
 * 127.0.0.1) train the demo plan (docker/plans/heart.json) once with per-site and once with federated
 * normalisation; `twinfed models export` and `twinfed-site export` write bundles whose manifests say the right
 * thing about preprocessing, verify offline, and score a CSV as the product does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyStandardizer, fitStandardizer, loadHeartDisease, predict, type Split } from '@twinfed/models';
import { PlanSchema, countOnlyMeta, openBundle, verifyBundle, type BundleManifest, type Plan } from '@twinfed/shared';
import {
  runFederation,
  siteDir,
  startConsortium,
  watchFederation,
  type Consortium,
  type RunSite,
} from '../demo/federation-run';
import { coordinatorCli, repoRoot, siteCli } from '../support/paths';
import { runNode } from '../support/processes';
import { THREE_SITES } from './__tests__/consortium';
import { readOperatorToken } from '../support/operator-token';

function demoPlan(normalization: 'per-site' | 'federated'): Plan {
  const file = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'docker', 'plans', 'heart.json'), 'utf8')) as {
    data: object;
    training: object;
  };
  return PlanSchema.parse({
    ...file,
    name: `heart ${normalization}`,
    rounds: 1,
    minSites: 2,
    data: { ...file.data, normalization },
    training: { ...file.training, steps: 20 },
  });
}

const manifestOf = (dir: string) =>
  JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as BundleManifest;

/** A CSV of a split with the features as columns, and the identity mapping. */
function csvOf(split: Split, features: readonly string[]): string {
  const rows = [features.join(',')];
  for (let i = 0; i < split.n; i++) rows.push(Array.from(split.x.subarray(i * split.d, (i + 1) * split.d)).join(','));
  return `${rows.join('\n')}\n`;
}

describe('model bundles from a real federation', () => {
  let workDir: string;
  let c: Consortium;
  let token: string;
  const raw = loadHeartDisease({ normalization: 'none' });

  beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-bundle-e2e-'));
    c = await startConsortium({ workDir, sites: THREE_SITES, sitePolicy: { autoApprove: true } });
    token = readOperatorToken(path.join(workDir, 'coordinator'));
  }, 60_000);
  afterAll(async () => {
    await c?.stopAll();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  async function trained(
    normalization: 'per-site' | 'federated',
  ): Promise<{ fid: string; versionId: string; plan: Plan }> {
    const plan = demoPlan(normalization);
    const fed = await runFederation(c, { workDir, sites: THREE_SITES, plan });
    const done = await watchFederation(c, { federationId: fed.id, timeoutMs: 120_000 });
    expect(done.federation.state).toBe('completed');
    return { fid: fed.id, versionId: done.rounds[0]!.versionId!, plan };
  }

  const coordinatorExport = (versionId: string, out: string) =>
    runNode({
      name: 'models export',
      script: coordinatorCli(),
      args: ['--url', c.url, '--token', token, 'models', 'export', versionId, '--out', out],
    });
  const siteExport = (fid: string, s: RunSite, out: string) =>
    runNode({
      name: 'site export',
      script: siteCli(),
      args: ['export', '--federation', fid, '--version', 'latest', '--out', out, '--data-dir', siteDir(workDir, s)],
    });

  test('per-site normalisation: the coordinator bundle says it carries no statistics; a site bundle carries that site’s', async () => {
    const { fid, versionId, plan } = await trained('per-site');
    const keys = await c.admin.coordinatorKeys();
    const coordDir = path.join(workDir, 'per-site-coordinator');
    const lines = await coordinatorExport(versionId, coordDir);
    expect(lines.join('\n')).toMatch(/carries no statistics/);
    const m = manifestOf(coordDir);
    expect(m.exported).toMatchObject({ by: 'coordinator', siteId: null });
    expect(m.preprocessing).toMatchObject({ normalization: 'per-site', statistics: 'absent', zScore: null });
    expect(m.description.features.map((f) => f.name)).toEqual(plan.data.features);
    expect(m.description.label).toMatchObject({ name: 'target', rule: null });
    expect(m.description.lineage.contributors!.map((x) => x.siteId).sort()).toEqual([...c.siteIds.values()].sort());
    expect(m.description.version).toMatchObject({ id: versionId, round: 1, strategy: 'fedyogi' });
    expect(m.siteMetrics!.map((e) => e.siteId).sort()).toEqual([...c.siteIds.values()].sort());
    expect(m.signature.meta.planSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyBundle(openBundle(coordDir), { fingerprint: keys.fingerprint }).trust).toBe('fingerprint');

    const siteBundle = path.join(workDir, 'per-site-cleveland');
    await siteExport(fid, THREE_SITES[0]!, siteBundle);
    const s = manifestOf(siteBundle);
    expect(s.exported).toMatchObject({ by: 'site', siteId: c.siteIds.get('Cleveland') });
    expect(s.preprocessing).toMatchObject({ normalization: 'per-site', statistics: 'site' });
    const own = fitStandardizer(raw[0]!.train);
    expect(s.preprocessing.zScore!.mean).toEqual(own.mean);
    expect(s.preprocessing.zScore!.std).toEqual(own.std);
    // The site was given the count-only metadata (signed for it by the coordinator): no other site's id in its bundle.
    expect(s.signature.meta).toEqual(countOnlyMeta(m.signature.meta));
    expect(s.signature.coordinator).toEqual(m.signature.coordinator);
    expect(s.description.lineage).toEqual({
      round: 1,
      parentVersionId: m.description.lineage.parentVersionId,
      contributorCount: c.siteIds.size,
    });
    for (const [name, id] of c.siteIds)
      if (name !== 'Cleveland')
        expect(fs.readFileSync(path.join(siteBundle, 'manifest.json'), 'utf8')).not.toContain(id);
    expect(verifyBundle(openBundle(siteBundle), { fingerprint: keys.fingerprint }).meta.versionId).toBe(versionId);
  }, 180_000);

  test('federated normalisation: both bundles carry the pooled statistics, and predict scores as the product does', async () => {
    const { fid, versionId, plan } = await trained('federated');
    const coordDir = path.join(workDir, 'federated-coordinator');
    await coordinatorExport(versionId, coordDir);
    const m = manifestOf(coordDir);
    expect(m.preprocessing).toMatchObject({ normalization: 'federated', statistics: 'federated-pooled' });
    const pooled = fitStandardizer([raw[0]!.train, raw[1]!.train, raw[3]!.train]);
    const z = m.preprocessing.zScore!;
    expect(z.rows).toBe(raw[0]!.train.n + raw[1]!.train.n + raw[3]!.train.n);
    z.mean.forEach((v, j) => expect(v).toBeCloseTo(pooled.mean[j]!, 3));
    z.std.forEach((v, j) => expect(v).toBeCloseTo(pooled.std[j]!, 3));
    // The site trained with the same pooled statistics and exports them.
    const siteBundle = path.join(workDir, 'federated-hungarian');
    await siteExport(fid, THREE_SITES[1]!, siteBundle);
    const s = manifestOf(siteBundle);
    expect(s.preprocessing.statistics).toBe('federated-pooled');
    s.preprocessing.zScore!.mean.forEach((v, j) => expect(v).toBeCloseTo(z.mean[j]!, 9));

    // Score Cleveland's held-out rows with the coordinator's bundle, outside any site (no enrollment).
    const test = raw[0]!.test;
    const csv = path.join(workDir, 'cleveland-test.csv');
    fs.writeFileSync(csv, csvOf(test, plan.data.features));
    const mapping = path.join(workDir, 'mapping.json');
    fs.writeFileSync(mapping, JSON.stringify({ features: plan.data.features.map((f) => ({ column: f, name: f })) }));
    const out = path.join(workDir, 'scores.csv');
    const keys = await c.admin.coordinatorKeys();
    await runNode({
      name: 'predict',
      script: siteCli(),
      args: [
        'predict',
        '--model',
        coordDir,
        '--data',
        csv,
        '--mapping',
        mapping,
        '--out',
        out,
        '--fingerprint',
        keys.fingerprint,
        '--data-dir',
        path.join(workDir, 'nobody'),
      ],
    });
    const rows = fs
      .readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','));
    expect(rows).toHaveLength(test.n);
    const verified = verifyBundle(openBundle(coordDir));
    const x = applyStandardizer(test, { mean: z.mean, std: z.std });
    const expected = await predict({ spec: plan.model, weights: verified.weights, x: x.x, n: x.n });
    rows.forEach((r, i) => expect(Math.abs(Number(r[1]) - expected[i]!)).toBeLessThanOrEqual(1e-7));
  }, 180_000);
});
