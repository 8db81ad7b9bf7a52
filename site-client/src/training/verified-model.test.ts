import { decodeSignedDownload, generateIdentity, initialWeights, layoutOf, planDigest } from '@twinfed/shared';
import { FakeCoordinator } from '../__tests__/fake-coordinator';
import { fetchVerifiedModel } from './verified-model';

/** A fake coordinator serving signed downloads (the default) or only the two separate answers. */
function coordinator(downloads: boolean): FakeCoordinator {
  const c = new FakeCoordinator();
  if (!downloads) c.modelDownload = undefined;
  return c;
}

const fetchFrom = (c: FakeCoordinator, versionId = 'v0') =>
  fetchVerifiedModel({
    api: c,
    versionId,
    federationId: c.federationId,
    coordinatorSignPublicKey: c.identity.sign.publicKey,
    expectedLayout: layoutOf(c.plan.model),
    planSha256: planDigest(c.plan),
  });

describe.each([
  ['one request', true],
  ['metadata then weights', false],
])('fetchVerifiedModel (%s)', (_, downloads) => {
  test('returns the signed version with its weights', async () => {
    const c = coordinator(downloads);
    const m = await fetchFrom(c);
    expect(m.meta.versionId).toBe('v0');
    expect(m.signature).toBe(c.versions.get('v0')!.signature);
    expect(Buffer.from(m.bytes).equals(Buffer.from(c.versions.get('v0')!.bytes))).toBe(true);
    expect(Array.from(m.weights.data)).toEqual(Array.from(initialWeights(c.plan.model, 1).data));
    expect(c.calls).toEqual(downloads ? ['download:v0'] : ['model:v0', 'weights:v0']);
  });

  test('refuses metadata signed by another key', async () => {
    const c = coordinator(downloads);
    c.tamper.signWith = generateIdentity();
    await expect(fetchFrom(c)).rejects.toMatchObject({ code: 'MODEL_SIGNATURE_INVALID' });
  });

  test('refuses weights that do not hash to the signed digest', async () => {
    const c = coordinator(downloads);
    c.tamper.flipWeightByte = true;
    await expect(fetchFrom(c)).rejects.toMatchObject({ code: 'MODEL_DIGEST_MISMATCH' });
  });

  test('refuses a version signed for another plan', async () => {
    const c = coordinator(downloads);
    c.publish({
      versionId: 'v1',
      round: 1,
      weights: initialWeights(c.plan.model, 2),
      parent: 'v0',
      planSha256: 'ab'.repeat(32),
    });
    await expect(fetchFrom(c, 'v1')).rejects.toMatchObject({ code: 'MODEL_SIGNATURE_INVALID' });
  });

  test('refuses the signed metadata of another version served in its place', async () => {
    const c = coordinator(downloads);
    c.publish({ versionId: 'v1', round: 1, weights: initialWeights(c.plan.model, 2), parent: 'v0' });
    c.versions.set('v2', c.versions.get('v1')!);
    await expect(fetchFrom(c, 'v2')).rejects.toMatchObject({ code: 'MODEL_SIGNATURE_INVALID' });
  });
});

describe('fetchVerifiedModel with a malformed download', () => {
  test('refuses a download whose framing is broken', async () => {
    const c = coordinator(true);
    c.modelDownload = async () => decodeSignedDownload(Uint8Array.from([0, 0, 0, 9, 1]));
    await expect(fetchFrom(c)).rejects.toMatchObject({ code: 'MODEL_SIGNATURE_INVALID' });
  });
});
