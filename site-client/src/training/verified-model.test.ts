import { decodeSignedDownload, generateIdentity, initialWeights, layoutOf, planDigest } from '@twinfed/shared';
import { FakeCoordinator } from '../__tests__/fake-coordinator';
import { fetchVerifiedModel, verifyDownloadedModel } from './verified-model';

/** How the site gets a version: one signed download, metadata then weights, or with the current round. */
type Mode = 'download' | 'split' | 'round';

/** A fake coordinator serving signed downloads (the default) or only the two separate answers. */
function coordinator(mode: Mode): FakeCoordinator {
  const c = new FakeCoordinator();
  if (mode === 'split') c.modelDownload = undefined;
  return c;
}

const expected = (c: FakeCoordinator, versionId: string) => ({
  versionId,
  federationId: c.federationId,
  coordinatorSignPublicKey: c.identity.sign.publicKey,
  expectedLayout: layoutOf(c.plan.model),
  planSha256: planDigest(c.plan),
});

/** The version as the site gets it in `mode` (with the current round: the latest version, which must be `versionId`). */
async function load(c: FakeCoordinator, mode: Mode, versionId = 'v0') {
  if (mode !== 'round') return fetchVerifiedModel({ api: c, ...expected(c, versionId) });
  const { current, version } = await c.currentRoundWithVersion!(c.federationId);
  expect(current.federation.latestVersionId).toBe(versionId);
  return verifyDownloadedModel(version!, expected(c, versionId));
}

const CALLS: Record<Mode, string[]> = {
  download: ['download:v0'],
  split: ['model:v0', 'weights:v0'],
  round: ['currentRound'],
};

describe.each([
  ['one request', 'download'],
  ['metadata then weights', 'split'],
  ['with the current round', 'round'],
] as const)('a verified version (%s)', (_, mode) => {
  const fetchFrom = (c: FakeCoordinator, versionId = 'v0') => load(c, mode, versionId);
  test('returns the signed version with its weights', async () => {
    const c = coordinator(mode);
    const m = await fetchFrom(c);
    expect(m.meta.versionId).toBe('v0');
    expect(m.signature).toBe(c.versions.get('v0')!.signature);
    expect(Buffer.from(m.bytes).equals(Buffer.from(c.versions.get('v0')!.bytes))).toBe(true);
    expect(Array.from(m.weights.data)).toEqual(Array.from(initialWeights(c.plan.model, 1).data));
    expect(c.calls).toEqual(CALLS[mode]);
  });

  test('refuses metadata signed by another key', async () => {
    const c = coordinator(mode);
    c.tamper.signWith = generateIdentity();
    await expect(fetchFrom(c)).rejects.toMatchObject({ code: 'MODEL_SIGNATURE_INVALID' });
  });

  test('refuses weights that do not hash to the signed digest', async () => {
    const c = coordinator(mode);
    c.tamper.flipWeightByte = true;
    await expect(fetchFrom(c)).rejects.toMatchObject({ code: 'MODEL_DIGEST_MISMATCH' });
  });

  test('refuses a version signed for another plan', async () => {
    const c = coordinator(mode);
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
    const c = coordinator(mode);
    c.publish({ versionId: 'v1', round: 1, weights: initialWeights(c.plan.model, 2), parent: 'v0' });
    c.versions.set('v2', c.versions.get('v1')!);
    await expect(fetchFrom(c, 'v2')).rejects.toMatchObject({ code: 'MODEL_SIGNATURE_INVALID' });
  });
});

describe('a malformed download', () => {
  test('refuses a download whose framing is broken', async () => {
    const c = coordinator('download');
    c.modelDownload = async () => decodeSignedDownload(Uint8Array.from([0, 0, 0, 9, 1]));
    await expect(load(c, 'download')).rejects.toMatchObject({ code: 'MODEL_SIGNATURE_INVALID' });
  });

  test('refuses a version served with the current round whose framing is broken', () => {
    const c = coordinator('round');
    expect(() => verifyDownloadedModel(Uint8Array.from([0, 0, 0, 9, 1]), expected(c, 'v0'))).toThrow(
      expect.objectContaining({ code: 'MODEL_SIGNATURE_INVALID' }),
    );
  });
});
