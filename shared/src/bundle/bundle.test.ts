import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateIdentity, fingerprint, publicPart } from '../crypto/identity';
import { countOnlyMeta, planDigest, signModelVersion, type ModelVersionMeta } from '../envelope/model-version';
import { initialWeights } from '../model-spec';
import { PlanSchema, type Plan } from '../schemas/plan';
import { serializeWeights } from '../weights/serialize';
import { codeOf } from '../__tests__/code-of';
import { versionMetaFor } from '../__tests__/version-meta';
import { buildBundle, openBundle, writeBundle, type BundleInput } from './files';
import { preprocessingFor, type BundleManifest } from './manifest';
import { verifyBundle } from './verify';

const coordinator = generateIdentity();
const keys = { ...publicPart(coordinator), fingerprint: fingerprint(publicPart(coordinator)) };

/** A twin plan: derived features (one with a missing indicator), a label rule and tiers. */
const twinPlan: Plan = PlanSchema.parse({
  name: 'twin',
  model: { kind: 'mlp', inputs: 4, hidden: [3] },
  data: {
    features: ['rhr', 'rhr.missing', 'age', 'diabetes'],
    label: 'pneumonia',
    normalization: 'federated',
    derive: [
      {
        name: 'rhr',
        kind: 'mean',
        source: { loinc: ['40443-4'] },
        unit: '/min',
        windowDays: 7,
        missing: { policy: 'indicator' },
      },
      { name: 'age', kind: 'age', missing: { policy: 'mean' } },
      { name: 'diabetes', kind: 'onehot', source: { conditionCodes: [{ system: 'icd10', codes: ['E11*'] }] } },
    ],
    labelRule: { kind: 'condition-onset', conditionCodes: [{ system: 'icd10', codes: ['J18*'] }], horizonDays: 30 },
    tiers: { thresholds: [0.1, 0.4], names: ['low', 'watch', 'high'] },
  },
  strategy: { name: 'fedavg' },
  training: { steps: 1 },
  rounds: 2,
});

function input(plan: Plan, over: Partial<BundleInput> = {}): BundleInput {
  const weights = initialWeights(plan.model, 3);
  const weightsBytes = serializeWeights(weights);
  const meta: ModelVersionMeta = versionMetaFor(weights, { planSha256: planDigest(plan) });
  return {
    meta,
    signature: signModelVersion(meta, coordinator.sign.secretKey),
    coordinator: keys,
    plan,
    weightsBytes,
    weights,
    statistics: {
      kind: 'federated-pooled',
      mean: [70, 0.1, 50, 0.2],
      std: [9, 0.3, 12, 0.4],
      rows: 80,
      fill: [70, 0, 50, 0],
    },
    exportedBy: 'site',
    siteId: 'site-a',
    siteMetrics: null,
    ...over,
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'twinfed-bundle-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('model bundles', () => {
  test('a twin-plan bundle round-trips and verifies against the pinned key: derivations, label rule and tiers included', () => {
    const out = path.join(dir, 'b');
    writeBundle(out, buildBundle(input(twinPlan)));
    expect(readdirSync(dir)).toEqual(['b']);
    const v = verifyBundle(openBundle(out), { pinnedSignPublicKey: coordinator.sign.publicKey });
    expect(v.trust).toBe('pinned');
    expect(v.warnings).toEqual([]);
    const d = v.manifest.description;
    expect(d.features.map((f) => [f.name, f.role])).toEqual([
      ['rhr', 'value'],
      ['rhr.missing', 'indicator'],
      ['age', 'value'],
      ['diabetes', 'value'],
    ]);
    expect(d.features[0]!.derivation).toMatchObject({ kind: 'mean', unit: '/min', windowDays: 7 });
    expect(d.label).toMatchObject({
      name: 'pneumonia',
      rule: { kind: 'condition-onset', horizonDays: 30, excludePrior: true },
    });
    expect(d.tiers).toMatchObject({ thresholds: [0.1, 0.4], names: ['low', 'watch', 'high'], source: 'plan' });
    expect(d.model.layers.map((l) => [l.name, l.activation, l.kernelShape])).toEqual([
      ['hidden_0', 'relu', [4, 3]],
      ['output', 'sigmoid', [3, 1]],
    ]);
    expect(v.manifest.preprocessing).toMatchObject({
      statistics: 'federated-pooled',
      fill: [70, 0, 50, 0],
      zScore: { rows: 80 },
    });
  });

  test('preprocessing says what each policy and exporter carries', () => {
    const plan = (normalization: string) =>
      PlanSchema.parse({ ...twinPlan, data: { ...twinPlan.data, normalization } });
    const site = { kind: 'site' as const, mean: [1, 2, 3, 4], std: [1, 1, 1, 1], rows: null };
    expect(preprocessingFor(plan('per-site'), { kind: 'none' })).toMatchObject({
      statistics: 'absent',
      zScore: null,
      fill: null,
    });
    expect(preprocessingFor(plan('per-site'), site)).toMatchObject({
      statistics: 'site',
      zScore: { mean: [1, 2, 3, 4], epsilon: 1e-9 },
    });
    expect(preprocessingFor(plan('none'), { kind: 'none', fill: [1, 0, 2, 0] })).toMatchObject({
      statistics: 'none',
      zScore: null,
      fill: [1, 0, 2, 0],
    });
    expect(() => preprocessingFor(plan('federated'), { kind: 'none' })).toThrow(RangeError);
    expect(preprocessingFor(plan('per-site'), { kind: 'none' }).steps.join(' ')).toMatch(
      /this coordinator export carries none/,
    );
  });

  test('refuses a plan not signed into the version, a foreign pinned key, a wrong fingerprint and files outside the bundle', () => {
    const out = path.join(dir, 'b');
    const good = input(twinPlan);
    const other = PlanSchema.parse({
      ...twinPlan,
      data: { ...twinPlan.data, tiers: { thresholds: [0.5], names: ['low', 'high'] } },
    });
    writeBundle(out, buildBundle({ ...good, plan: other }));
    expect(codeOf(() => verifyBundle(openBundle(out)))).toBe('MODEL_SIGNATURE_INVALID');
    writeBundle(out, buildBundle(good), { force: true });
    expect(
      codeOf(() => verifyBundle(openBundle(out), { pinnedSignPublicKey: generateIdentity().sign.publicKey })),
    ).toBe('MODEL_SIGNATURE_INVALID');
    expect(
      codeOf(() => verifyBundle(openBundle(out), { fingerprint: '0000-0000-0000-0000-0000-0000-0000-0000' })),
    ).toBe('MODEL_SIGNATURE_INVALID');
    expect(verifyBundle(openBundle(out), { fingerprint: keys.fingerprint.toUpperCase() }).trust).toBe('fingerprint');
    const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as BundleManifest;
    m.files.weights.path = '../../etc/passwd';
    writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(m));
    expect(codeOf(() => verifyBundle(openBundle(out)))).toBe('BUNDLE_INVALID');
    expect(codeOf(() => openBundle(path.join(dir, 'nothing')))).toBe('BUNDLE_INVALID');
    expect(codeOf(() => writeBundle(out, buildBundle(good)))).toBe('ALREADY_EXISTS');
  });

  test('statistics that do not fit the model or the exporter are refused', () => {
    const out = path.join(dir, 'b');
    writeBundle(
      out,
      buildBundle(input(twinPlan, { statistics: { kind: 'federated-pooled', mean: [1, 2], std: [1, 1], rows: null } })),
    );
    expect(codeOf(() => verifyBundle(openBundle(out)))).toBe('BUNDLE_INVALID');
    const perSite = PlanSchema.parse({ ...twinPlan, data: { ...twinPlan.data, normalization: 'per-site' } });
    writeBundle(
      out,
      buildBundle(
        input(perSite, {
          exportedBy: 'coordinator',
          statistics: { kind: 'site', mean: [1, 2, 3, 4], std: [1, 1, 1, 1], rows: null },
        }),
      ),
      { force: true },
    );
    expect(codeOf(() => verifyBundle(openBundle(out)))).toBe('BUNDLE_INVALID');
  });

  test('a site export of the count-only metadata verifies; its lineage carries the count, not the sites', () => {
    const base = input(twinPlan);
    const meta = countOnlyMeta({ ...base.meta, contributors: [{ siteId: 'site-other', numExamples: 10 }] });
    const out = path.join(dir, 'site');
    writeBundle(out, buildBundle({ ...base, meta, signature: signModelVersion(meta, coordinator.sign.secretKey) }));
    const v = verifyBundle(openBundle(out), { pinnedSignPublicKey: coordinator.sign.publicKey });
    expect(v.manifest.description.lineage).toEqual({ round: 2, parentVersionId: 'fed-1.v1', contributorCount: 1 });
    expect(readFileSync(path.join(out, 'manifest.json'), 'utf8')).not.toContain('site-other');
    // A lineage that names sites the signed metadata does not is refused.
    const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as BundleManifest;
    m.description.lineage = { ...m.description.lineage, contributors: [{ siteId: 'site-z', numExamples: 1 }] };
    writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(m));
    expect(codeOf(() => verifyBundle(openBundle(out)))).toBe('BUNDLE_INVALID');
  });

  test('a version without a signed plan digest verifies with a warning', () => {
    const base = input(twinPlan);
    const { planSha256: _omit, ...meta } = base.meta;
    const out = path.join(dir, 'old');
    writeBundle(out, buildBundle({ ...base, meta, signature: signModelVersion(meta, coordinator.sign.secretKey) }));
    expect(verifyBundle(openBundle(out)).warnings.join(' ')).toMatch(/predates signed plan digests/);
  });
});
