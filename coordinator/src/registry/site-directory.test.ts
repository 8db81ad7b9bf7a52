import * as shared from '@twinfed/shared';
import {
  fingerprint,
  generateIdentity,
  neighbourhoodDirectoryDigest,
  publicPart,
  toB64,
  verifyNeighbourhoodDirectory,
} from '@twinfed/shared';
import { SiteDirectory } from './site-directory';

jest.mock('@twinfed/shared', () => {
  const actual = jest.requireActual<typeof shared>('@twinfed/shared');
  return { ...actual, signNeighbourhoodDirectory: jest.fn(actual.signNeighbourhoodDirectory) };
});

const coordinator = generateIdentity();
const site = (id: string) => {
  const keys = generateIdentity();
  return { id, signPublicKey: toB64(keys.sign.publicKey), boxPublicKey: toB64(keys.box.publicKey) };
};

describe('SiteDirectory: one signature over a site’s neighbourhood per round', () => {
  const directory = new SiteDirectory(coordinator);
  const round = {
    federationId: 'fed-1',
    round: 3,
    baseVersionId: 'fed-1.v2',
    coordinatorFingerprint: fingerprint(publicPart(coordinator)),
  };
  const listed = Object.freeze(['site-b', 'site-a', 'site-c'].map((id) => directory.entry(site(id))));

  test('signs exactly the listed entries for the site and round, once per list (repeated reads reuse it)', () => {
    const signs = jest.mocked(shared.signNeighbourhoodDirectory);
    signs.mockClear();
    const sig = directory.neighbourhood(round, 'site-a', listed);
    const digest = neighbourhoodDirectoryDigest({ ...round, siteId: 'site-a', entries: listed });
    expect(verifyNeighbourhoodDirectory(digest, sig, coordinator.sign.publicKey)).toBe(true);
    for (let i = 0; i < 4; i++) expect(directory.neighbourhood(round, 'site-a', listed)).toBe(sig);
    expect(signs).toHaveBeenCalledTimes(1);
    // Another site or round is signed for itself, never served another's signature.
    const other = directory.neighbourhood({ ...round, round: 4 }, 'site-a', listed);
    expect(other).not.toBe(sig);
    expect(directory.neighbourhood(round, 'site-b', listed)).not.toBe(sig);
    expect(signs).toHaveBeenCalledTimes(3);
    const dropped = listed.slice(0, 2);
    expect(
      verifyNeighbourhoodDirectory(
        neighbourhoodDirectoryDigest({ ...round, siteId: 'site-a', entries: dropped }),
        sig,
        coordinator.sign.publicKey,
      ),
    ).toBe(false);
  });
});
