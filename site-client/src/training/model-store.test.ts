import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateIdentity, initialWeights, layoutOf, planDigest } from '@twinfed/shared';
import { FakeCoordinator, testPlan } from '../__tests__/fake-coordinator';
import { lrWeights, twinTestPlan } from '../__tests__/twin-site';
import { ModelStore, MODELS_DIR } from './model-store';
import { fetchVerifiedModel } from './verified-model';

const plan = twinTestPlan();

async function setup() {
  const c = new FakeCoordinator(plan);
  c.publish({ versionId: 'v1', round: 1, weights: lrWeights(plan, [0.5, 0.25], -1), parent: 'v0' });
  c.publish({ versionId: 'v2', round: 2, weights: lrWeights(plan, [0.75, 0.5], -2), parent: 'v1' });
  const verified = (versionId: string) =>
    fetchVerifiedModel({
      api: c,
      versionId,
      federationId: c.federationId,
      coordinatorSignPublicKey: c.identity.sign.publicKey,
      expectedLayout: layoutOf(plan.model),
      planSha256: planDigest(plan),
    });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-models-'));
  return { c, dir, store: new ModelStore(dir, c.identity.sign.publicKey), verified };
}

describe('ModelStore', () => {
  test('keeps the latest verified version per federation with its plan and preprocessing, verified again on load', async () => {
    const { c, dir, store, verified } = await setup();
    const preprocessing = { fill: [50, 70], standardizer: null };
    expect(store.save({ federationId: 'fed-1', model: await verified('v2'), plan, preprocessing, at: 1234 })).toBe(
      true,
    );
    expect(
      store.save({ federationId: 'fed-1', model: await verified('v1'), plan, preprocessing: null, at: null }),
    ).toBe(false); // older round
    const loaded = store.load('fed-1')!;
    expect(loaded.meta.versionId).toBe('v2');
    expect(Array.from(loaded.weights.data)).toEqual([0.75, 0.5, -2]);
    expect(loaded.preprocessing).toEqual(preprocessing);
    expect(loaded.at).toBe(1234);
    expect(loaded.plan).toEqual(plan);
    expect(store.federations()).toEqual(['fed-1']);
    expect(store.load('other')).toBeNull();
    // a file edited on disk is refused
    const fdir = path.join(dir, MODELS_DIR, 'fed-1');
    const wfile = fs.readdirSync(fdir).find((f) => f.startsWith('weights-'))!;
    expect(fs.readdirSync(fdir).filter((f) => f.startsWith('weights-'))).toHaveLength(1);
    const bytes = fs.readFileSync(path.join(fdir, wfile));
    bytes[bytes.length - 1]! ^= 1;
    fs.writeFileSync(path.join(fdir, wfile), bytes);
    expect(() => store.load('fed-1')).toThrow(expect.objectContaining({ code: 'MODEL_DIGEST_MISMATCH' }));
    // and a store pinned to another coordinator key refuses the signature
    bytes[bytes.length - 1]! ^= 1;
    fs.writeFileSync(path.join(fdir, wfile), bytes);
    expect(() => new ModelStore(dir, generateIdentity().sign.publicKey).load('fed-1')).toThrow(
      expect.objectContaining({ code: 'MODEL_SIGNATURE_INVALID' }),
    );
    expect(c.federationId).toBe('fed-1');
  });

  test('stores federation ids that are not safe file names under an encoded directory', async () => {
    const { dir, store, verified } = await setup();
    const model = await verified('v1');
    expect(() => store.save({ federationId: '../evil', model, plan, preprocessing: null, at: null })).not.toThrow();
    expect(fs.readdirSync(path.join(dir, MODELS_DIR))).toEqual(['%2E%2E%2Fevil']);
    expect(store.federations()).toEqual(['../evil']);
    // the signature names fed-1, so loading it as another federation is refused
    expect(() => store.load('../evil')).toThrow(expect.objectContaining({ code: 'MODEL_SIGNATURE_INVALID' }));
  });

  test('lists twin federations apart from tabular ones, and hands out the signature and signed bytes for export', async () => {
    const { c, dir, store, verified } = await setup();
    store.save({ federationId: 'fed-1', model: await verified('v1'), plan, preprocessing: null, at: null });
    const tabular = new FakeCoordinator(testPlan());
    tabular.publish({ versionId: 'v1', round: 1, weights: initialWeights(tabular.plan.model, 2), parent: 'v0' });
    const tv = await fetchVerifiedModel({
      api: tabular,
      versionId: 'v1',
      federationId: 'fed-1',
      coordinatorSignPublicKey: tabular.identity.sign.publicKey,
      expectedLayout: layoutOf(tabular.plan.model),
      planSha256: planDigest(tabular.plan),
    });
    const tabStore = new ModelStore(dir, tabular.identity.sign.publicKey);
    // stored under another id; the signature names fed-1, so only listing is exercised for it
    tabStore.save({
      federationId: 'tab',
      model: tv,
      plan: tabular.plan,
      preprocessing: { fill: [], standardizer: { mean: [1, 2, 3], std: [1, 1, 1] } },
      at: null,
    });
    expect(store.federations()).toEqual(['fed-1', 'tab']);
    expect(store.federations({ twins: true })).toEqual(['fed-1']);
    const signed = store.loadSigned('fed-1')!;
    expect(signed.signature).toBe(c.versions.get('v1')!.signature);
    expect(Buffer.from(signed.weightsBytes)).toEqual(Buffer.from(c.versions.get('v1')!.bytes));
  });
});
