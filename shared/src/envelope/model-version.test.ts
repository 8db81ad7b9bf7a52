import { PROTOCOL_VERSION } from '../protocol';
import { generateIdentity } from '../crypto/identity';
import { serializeWeights } from '../weights/serialize';
import type { WeightSet } from '../weights/types';
import {
  FullModelVersionMetaSchema,
  ModelVersionMetaSchema,
  SiteModelVersionMetaSchema,
  contributorCountOf,
  countOnlyMeta,
  planDigest,
  signModelVersion,
  verifyModelVersion,
} from './model-version';
import { PlanSchema } from '../schemas/plan';
import { codeOf } from '../__tests__/code-of';
import { versionMetaFor } from '../__tests__/version-meta';

const coord = generateIdentity();
const weights: WeightSet = {
  layout: [
    { name: 'k', shape: [2, 2], dtype: 'float32' },
    { name: 'b', shape: [2], dtype: 'float32' },
  ],
  data: Float32Array.from([1, 2, 3, 4, 0.5, -0.5]),
};
const weightsBytes = serializeWeights(weights);
const meta = versionMetaFor(weights, {
  contributors: [
    { siteId: 'site-a', numExamples: 100 },
    { siteId: 'site-b', numExamples: 50 },
  ],
  metrics: { auc: 0.81, loss: 0.4 },
  dpEpsilon: 1.5,
  dpMechanism: 'skellam',
});
const signature = signModelVersion(meta, coord.sign.secretKey);

const verify = (over: Partial<Parameters<typeof verifyModelVersion>[0]> = {}) =>
  codeOf(() =>
    verifyModelVersion({ meta, signature, weightsBytes, coordinatorSignPublicKey: coord.sign.publicKey, ...over }),
  );

describe('model version signing', () => {
  test('verifies and returns the validated metadata', () => {
    expect(
      verifyModelVersion({ meta, signature, weightsBytes, coordinatorSignPublicKey: coord.sign.publicKey }),
    ).toEqual(meta);
    expect(verify({ weightsBytes: undefined })).toBe('none');
    expect(verify({ meta: JSON.parse(JSON.stringify(meta)) })).toBe('none'); // survives a JSON round trip
    expect(verify({ meta: { ...meta, dpEpsilon: undefined } })).toBe('MODEL_SIGNATURE_INVALID');
  });

  test('accepts the initial version (round 0, no parent) and an absent dpEpsilon and dpMechanism', () => {
    const { dpEpsilon: _drop, dpMechanism: _mechanism, ...rest } = meta;
    const initial = { ...rest, round: 0, parentVersionId: null, contributors: [] };
    const sig = signModelVersion(initial, coord.sign.secretKey);
    expect(
      codeOf(() =>
        verifyModelVersion({ meta: initial, signature: sig, coordinatorSignPublicKey: coord.sign.publicKey }),
      ),
    ).toBe('none');
  });

  const tampered: Array<[string, unknown]> = [
    ['protocol', PROTOCOL_VERSION + 1],
    ['federationId', 'fed-2'],
    ['versionId', 'v4'],
    ['parentVersionId', null],
    ['round', 4],
    ['strategy', 'fedprox'],
    [
      'layout',
      [
        { name: 'k', shape: [4], dtype: 'float32' },
        { name: 'b', shape: [2], dtype: 'float32' },
      ],
    ],
    ['weightsSha256', 'f'.repeat(64)],
    ['contributors', [{ siteId: 'site-a', numExamples: 100 }]],
    ['metrics', { auc: 0.82, loss: 0.4 }],
    ['dpEpsilon', 1.25],
    ['dpMechanism', 'gaussian'],
    ['planSha256', 'b'.repeat(64)],
    ['recalibration', { method: 'platt', a: 0.8, b: -0.1, baseVersionId: 'v3', rows: 120 }],
    ['coxBaseline', { etaVersionId: 'v3', times: [1, 2], cumulativeHazard: [0.01, 0.03], sites: 3, events: 4 }],
    ['createdAt', '2025-03-01T12:00:00.001Z'],
  ];
  test('covers every field of the schema', () => {
    expect(tampered.map(([k]) => k).sort()).toEqual(Object.keys(FullModelVersionMetaSchema.shape).sort());
  });
  test.each(tampered)('rejects a tampered %s', (field, value) => {
    expect(verify({ meta: { ...meta, [field]: value } })).toBe('MODEL_SIGNATURE_INVALID');
  });

  test('rejects nested tampering, extra fields and malformed metadata', () => {
    expect(
      verify({ meta: { ...meta, contributors: [{ siteId: 'site-a', numExamples: 101 }, meta.contributors[1]] } }),
    ).toBe('MODEL_SIGNATURE_INVALID');
    expect(verify({ meta: { ...meta, extra: 1 } })).toBe('MODEL_SIGNATURE_INVALID');
    expect(verify({ meta: { ...meta, round: -1 } })).toBe('MODEL_SIGNATURE_INVALID');
    expect(verify({ meta: null })).toBe('MODEL_SIGNATURE_INVALID');
  });

  test('rejects a wrong key and a malformed or flipped signature', () => {
    expect(verify({ coordinatorSignPublicKey: generateIdentity().sign.publicKey })).toBe('MODEL_SIGNATURE_INVALID');
    expect(verify({ signature: 'nope' })).toBe('MODEL_SIGNATURE_INVALID');
    const raw = Buffer.from(signature, 'base64');
    raw[5] = raw[5]! ^ 1;
    expect(verify({ signature: raw.toString('base64') })).toBe('MODEL_SIGNATURE_INVALID');
  });

  test('rejects every single-byte change of the weights bytes and any truncation', () => {
    for (let pos = 0; pos < weightsBytes.length; pos++) {
      const bad = new Uint8Array(weightsBytes);
      bad[pos] = bad[pos]! ^ 0x01;
      expect(verify({ weightsBytes: bad })).toBe('MODEL_DIGEST_MISMATCH');
    }
    expect(verify({ weightsBytes: weightsBytes.subarray(0, weightsBytes.length - 4) })).toBe('MODEL_DIGEST_MISMATCH');
  });

  test('refuses to sign invalid metadata', () => {
    expect(codeOf(() => signModelVersion({ ...meta, weightsSha256: 'XYZ' }, coord.sign.secretKey))).toBe(
      'VALIDATION_FAILED',
    );
    expect(codeOf(() => signModelVersion({ ...meta, metrics: { a: NaN } }, coord.sign.secretKey))).toBe(
      'VALIDATION_FAILED',
    );
  });
});

describe('count-only metadata (what sites receive)', () => {
  const site = countOnlyMeta(meta);
  const siteSignature = signModelVersion(site, coord.sign.secretKey);

  test('replaces the contributor list with its length and keeps every other field', () => {
    const { contributors: _drop, ...rest } = meta;
    expect(site).toEqual({ ...rest, contributorCount: 2 });
    expect(countOnlyMeta(site)).toEqual(site);
    expect(contributorCountOf(meta)).toBe(2);
    expect(contributorCountOf(site)).toBe(2);
    expect(Object.keys(SiteModelVersionMetaSchema.shape).sort()).toEqual(
      [...Object.keys(FullModelVersionMetaSchema.shape).filter((k) => k !== 'contributors'), 'contributorCount'].sort(),
    );
  });

  test('verifies on its own signature, with the weights, and not on the full one', () => {
    expect(
      verifyModelVersion({
        meta: site,
        signature: siteSignature,
        weightsBytes,
        coordinatorSignPublicKey: coord.sign.publicKey,
      }),
    ).toEqual(site);
    expect(verify({ meta: site })).toBe('MODEL_SIGNATURE_INVALID');
    expect(verify({ meta: site, signature: siteSignature, weightsBytes: weightsBytes.subarray(1) })).toBe(
      'MODEL_DIGEST_MISMATCH',
    );
    expect(verify({ meta: { ...site, contributorCount: 3 }, signature: siteSignature })).toBe(
      'MODEL_SIGNATURE_INVALID',
    );
    expect(verify({ meta: JSON.parse(JSON.stringify(site)), signature: siteSignature })).toBe('none');
  });

  test('is one form or the other: both fields, or neither, is malformed', () => {
    expect(ModelVersionMetaSchema.safeParse({ ...meta, contributorCount: 2 }).success).toBe(false);
    const { contributors: _drop, ...neither } = meta;
    expect(ModelVersionMetaSchema.safeParse(neither).success).toBe(false);
    expect(codeOf(() => signModelVersion({ ...site, contributorCount: -1 }, coord.sign.secretKey))).toBe(
      'VALIDATION_FAILED',
    );
  });
});

describe('planDigest', () => {
  const input = {
    name: 'p',
    model: { kind: 'logistic-regression', inputs: 2 },
    data: { features: ['a', 'b'] },
    strategy: { name: 'fedavg' },
    training: { steps: 1 },
    rounds: 1,
  };
  test('is stable across parses and changes with the feature order', () => {
    const plan = PlanSchema.parse(input);
    expect(planDigest(PlanSchema.parse(JSON.parse(JSON.stringify(plan))))).toBe(planDigest(plan));
    expect(planDigest(PlanSchema.parse({ ...input, data: { features: ['b', 'a'] } }))).not.toBe(planDigest(plan));
  });
  test('is unchanged for plans written before privacy.shareContributorsWithSites (the option is not defaulted in)', () => {
    const plan = PlanSchema.parse(input);
    expect(plan.privacy).toEqual({ secureAggregation: false });
    expect(planDigest(PlanSchema.parse({ ...input, privacy: { shareContributorsWithSites: true } }))).not.toBe(
      planDigest(plan),
    );
  });
});
