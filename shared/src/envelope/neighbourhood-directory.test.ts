import { toB64 } from '../crypto/encoding';
import { sha256 } from '../crypto/hash';
import { generateIdentity } from '../crypto/identity';
import { secaggContext } from '../crypto/secagg';
import { canonicalJson } from './canonical-json';
import {
  neighbourhoodDirectoryDigest,
  signNeighbourhoodDirectory,
  verifyNeighbourhoodDirectory,
} from './neighbourhood-directory';
import { signSiteDirectoryEntry, verifySiteDirectoryEntry } from './site-directory';

const round = { federationId: 'fed-1', round: 2, baseVersionId: 'fed-1.v1', coordinatorFingerprint: 'aaaa-bbbb' };
const coordinator = generateIdentity();
const entryOf = (siteId: string) => {
  const id = generateIdentity();
  return { siteId, signPublicKey: toB64(id.sign.publicKey), boxPublicKey: toB64(id.box.publicKey) };
};
const entries = [entryOf('site-c'), entryOf('site-a'), entryOf('site-b')];
const statement = { ...round, siteId: 'site-a', entries };

describe('the neighbourhood directory (one coordinator signature over a site’s listed neighbourhood)', () => {
  test('canonical: the label, the round context, the site and the entries sorted, without their own signatures', () => {
    const sortedEntries = [...entries].sort((a, b) => (a.siteId < b.siteId ? -1 : 1));
    expect(neighbourhoodDirectoryDigest(statement)).toEqual(
      sha256(
        'TWINFED-SECAGG-NEIGHBOURHOOD-DIRECTORY-V1\n' +
          canonicalJson({ context: secaggContext(round), siteId: 'site-a', entries: sortedEntries }),
      ),
    );
    // The order of the list and any other field of an entry (its own directory signature) do not matter.
    const listed = [...entries].reverse().map((e) => ({ ...e, directorySignature: 'c2ln' }));
    expect(neighbourhoodDirectoryDigest({ ...statement, entries: listed })).toEqual(
      neighbourhoodDirectoryDigest(statement),
    );
  });

  test('round trip under the coordinator key; another key refuses', () => {
    const sig = signNeighbourhoodDirectory(statement, coordinator.sign.secretKey);
    const digest = neighbourhoodDirectoryDigest(statement);
    expect(verifyNeighbourhoodDirectory(digest, sig, coordinator.sign.publicKey)).toBe(true);
    expect(verifyNeighbourhoodDirectory(digest, sig, generateIdentity().sign.publicKey)).toBe(false);
    expect(verifyNeighbourhoodDirectory(digest, 'not base64!', coordinator.sign.publicKey)).toBe(false);
  });

  test('a tampered list, another site, another round context: refused', () => {
    const sig = signNeighbourhoodDirectory(statement, coordinator.sign.secretKey);
    const refused = (s: typeof statement) =>
      expect(verifyNeighbourhoodDirectory(neighbourhoodDirectoryDigest(s), sig, coordinator.sign.publicKey)).toBe(
        false,
      );
    const other = entryOf('site-b');
    refused({
      ...statement,
      entries: [entries[0]!, entries[1]!, { ...entries[2]!, signPublicKey: other.signPublicKey }],
    });
    refused({
      ...statement,
      entries: [entries[0]!, entries[1]!, { ...entries[2]!, boxPublicKey: other.boxPublicKey }],
    });
    refused({ ...statement, entries: entries.slice(0, 2) });
    refused({ ...statement, entries: [...entries, entryOf('site-d')] });
    refused({ ...statement, entries: [entries[0]!, entries[1]!, { ...entries[2]!, siteId: 'site-d' }] });
    refused({ ...statement, siteId: 'site-b' });
    refused({ ...statement, federationId: 'fed-2' });
    refused({ ...statement, round: 3 });
    refused({ ...statement, baseVersionId: 'fed-1.v2' });
    refused({ ...statement, coordinatorFingerprint: 'cccc-dddd' });
  });

  test('domain separation from the site directory: neither signature verifies as the other', () => {
    const one = { ...statement, entries: [entries[1]!] };
    const listSig = signNeighbourhoodDirectory(one, coordinator.sign.secretKey);
    const entrySig = signSiteDirectoryEntry(entries[1]!, coordinator.sign.secretKey);
    expect(verifySiteDirectoryEntry(entries[1]!, listSig, coordinator.sign.publicKey)).toBe(false);
    expect(verifyNeighbourhoodDirectory(neighbourhoodDirectoryDigest(one), entrySig, coordinator.sign.publicKey)).toBe(
      false,
    );
  });
});
