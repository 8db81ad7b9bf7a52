import { fromB64, toB64 } from '../crypto/encoding';
import { generateIdentity, publicPart } from '../crypto/identity';
import { signEnrollProof, verifyEnrollProof } from './enroll-proof';

const coordinator = generateIdentity();
const site = generateIdentity();
const token = 'tfe_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';
const proof = signEnrollProof({ token, coordinator: publicPart(coordinator), identity: site });
const verify = (o: Partial<Parameters<typeof verifyEnrollProof>[0]> = {}) =>
  verifyEnrollProof({ token, coordinator, site: publicPart(site), proof, ...o });

function flip(b64: string, i: number): string {
  const bytes = fromB64(b64);
  bytes[i] = bytes[i]! ^ 0x01;
  return toB64(bytes);
}

describe('enrollment proof of possession', () => {
  test('verifies for the token, coordinator and keys it was made for', () => {
    expect(verify()).toBe(true);
  });

  test('fails for another token, coordinator, signing key or box key, and for a missing proof', () => {
    const other = generateIdentity();
    expect(verify({ token: `${token}x` })).toBe(false);
    expect(verify({ coordinator: other })).toBe(false);
    expect(verify({ site: { ...publicPart(site), signPublicKey: publicPart(other).signPublicKey } })).toBe(false);
    expect(verify({ site: { ...publicPart(site), boxPublicKey: publicPart(other).boxPublicKey } })).toBe(false);
    expect(verify({ proof: undefined })).toBe(false);
  });

  test('any flipped bit of either half fails; malformed fields are false, never a throw', () => {
    for (const i of [0, 31, 63])
      expect(verify({ proof: { ...proof, signature: flip(proof.signature, i) } })).toBe(false);
    for (const i of [0, 15, 31]) expect(verify({ proof: { ...proof, boxProof: flip(proof.boxProof, i) } })).toBe(false);
    expect(verify({ proof: { signature: '', boxProof: '' } })).toBe(false);
    expect(verify({ proof: { ...proof, boxProof: '!!' } })).toBe(false);
    expect(verify({ site: { signPublicKey: 'AA==', boxPublicKey: 'AA==' } })).toBe(false);
  });

  test('the signature alone is not enough: a proof with a valid signature but a MAC from another box key fails', () => {
    const stranger = generateIdentity();
    const mixed = { sign: site.sign, box: stranger.box };
    const forged = signEnrollProof({ token, coordinator: publicPart(coordinator), identity: mixed });
    // Presenting the real site's box key with a MAC made from the stranger's box secret.
    expect(verify({ proof: { signature: proof.signature, boxProof: forged.boxProof } })).toBe(false);
  });
});
