import fc from 'fast-check';
import { generateIdentity } from '../crypto/identity';
import { toB64 } from '../crypto/encoding';
import { sha256 } from '../crypto/hash';
import { secaggContext } from '../crypto/secagg';
import { canonicalJson } from './canonical-json';
import {
  secaggCohortDigest,
  secaggConsistencyDigest,
  secaggNeighbourhoodDigest,
  secaggNeighbourhoodStatement,
  shareBoxesDigest,
  signSecaggConsistency,
  signSecaggKeys,
  signSecaggNeighbourhood,
  verifySecaggConsistency,
  verifySecaggDigest,
  verifySecaggKeys,
  verifySecaggNeighbourhood,
} from './secagg-statements';
import { signSiteDirectoryEntry, verifySiteDirectoryEntry } from './site-directory';

const round = { federationId: 'fed-1', round: 2, baseVersionId: 'fed-1.v1', coordinatorFingerprint: 'aaaa-bbbb' };
const boxes = [
  { to: 'site-b', nonce: 'bm9uY2Ux', ciphertext: 'Y3QtYg==' },
  { to: 'site-a', nonce: 'bm9uY2Uy', ciphertext: 'Y3QtYQ==' },
];

describe('secure-aggregation statements', () => {
  const site = generateIdentity();
  const other = generateIdentity();

  test('keys: bound to the mask key, the boxes, the site and the whole round context', () => {
    const statement = {
      ...round,
      siteId: 'site-a',
      maskPublicKey: toB64(generateIdentity().box.publicKey),
      boxesSha256: shareBoxesDigest(boxes),
    };
    const sig = signSecaggKeys(statement, site.sign.secretKey);
    expect(verifySecaggKeys(statement, sig, site.sign.publicKey)).toBe(true);
    expect(verifySecaggKeys(statement, sig, other.sign.publicKey)).toBe(false);
    expect(shareBoxesDigest([...boxes].reverse())).toBe(statement.boxesSha256); // order of the list does not matter
    for (const changed of [
      { maskPublicKey: toB64(generateIdentity().box.publicKey) },
      { boxesSha256: shareBoxesDigest([{ ...boxes[0]!, ciphertext: 'Y3QtYw==' }, boxes[1]!]) },
      { siteId: 'site-b' },
      { round: 3 },
      { federationId: 'fed-2' },
      { baseVersionId: 'fed-1.v0' },
      { coordinatorFingerprint: 'cccc-dddd' },
    ])
      expect(verifySecaggKeys({ ...statement, ...changed }, sig, site.sign.publicKey)).toBe(false);
    expect(verifySecaggKeys(statement, 'not base64!', site.sign.publicKey)).toBe(false);
  });

  test('consistency: the same sets in any order verify; another U3, U2, cohort or threshold does not', () => {
    const statement = {
      ...round,
      threshold: 3,
      cohort: ['site-c', 'site-a', 'site-b', 'site-d'],
      u2: ['site-a', 'site-b', 'site-c', 'site-d'],
      u3: ['site-d', 'site-a', 'site-b'],
    };
    const sig = signSecaggConsistency(statement, site.sign.secretKey);
    expect(
      verifySecaggConsistency(
        { ...statement, u3: ['site-a', 'site-b', 'site-d'], cohort: [...statement.cohort].sort() },
        sig,
        site.sign.publicKey,
      ),
    ).toBe(true);
    for (const changed of [
      { u3: ['site-a', 'site-b', 'site-c'] },
      { u2: ['site-a', 'site-b', 'site-d'] },
      { cohort: ['site-a', 'site-b', 'site-d'] },
      { threshold: 2 },
      { baseVersionId: 'x' },
    ]) {
      expect(verifySecaggConsistency({ ...statement, ...changed }, sig, site.sign.publicKey)).toBe(false);
    }
    expect(verifySecaggConsistency(statement, sig, other.sign.publicKey)).toBe(false);
  });

  test('neighbourhood (V3): only N[u] restricted to U2 and U3 counts; another view of it, another signer, k, t or S, or a V2 statement does not verify', () => {
    const cohort = ['site-a', 'site-b', 'site-c', 'site-d', 'site-e', 'site-f'];
    const view = (u2: string[], u3: string[], o: { degree?: number; threshold?: number; cohort?: string[] } = {}) =>
      secaggNeighbourhoodStatement({
        ...round,
        cohortSha256: secaggCohortDigest(o.cohort ?? cohort),
        degree: o.degree ?? 2,
        threshold: o.threshold ?? 2,
        siteId: 'site-a',
        neighbours: ['site-b', 'site-f'],
        u2: new Set(u2),
        u3: new Set(u3),
      });
    const mine = view(cohort, ['site-a', 'site-b', 'site-d', 'site-f']);
    expect([mine.u2, mine.u3]).toEqual([
      ['site-a', 'site-b', 'site-f'],
      ['site-a', 'site-b', 'site-f'],
    ]);
    const sig = signSecaggNeighbourhood(mine, site.sign.secretKey);
    // Outside N[site-a] the sets may differ (site-d dropped, site-c unknown): same statement.
    expect(verifySecaggNeighbourhood(view(cohort, ['site-a', 'site-b', 'site-f']), sig, site.sign.publicKey)).toBe(
      true,
    );
    expect(verifySecaggDigest(secaggNeighbourhoodDigest(mine), sig, site.sign.publicKey)).toBe(true);
    for (const wrong of [
      view(cohort, ['site-a', 'site-b']), // site-f shown dropped
      view(['site-a', 'site-b'], ['site-a', 'site-b']), // site-f not even in U2
      view(cohort, ['site-a', 'site-b', 'site-f'], { degree: 4 }),
      view(cohort, ['site-a', 'site-b', 'site-f'], { threshold: 3 }),
      view(cohort, ['site-a', 'site-b', 'site-f'], { cohort: cohort.slice(1) }),
      { ...mine, siteId: 'site-b' },
      { ...mine, round: 3 },
    ])
      expect(verifySecaggNeighbourhood(wrong, sig, site.sign.publicKey)).toBe(false);
    expect(verifySecaggNeighbourhood(mine, sig, other.sign.publicKey)).toBe(false);
    // A V2 statement over the same sets is another purpose: neither verifies as the other.
    const v2 = { ...round, threshold: 2, cohort, u2: cohort, u3: mine.u3 };
    expect(verifySecaggConsistency(v2, sig, site.sign.publicKey)).toBe(false);
    const v2sig = signSecaggConsistency(v2, site.sign.secretKey);
    expect(verifySecaggNeighbourhood(mine, v2sig, site.sign.publicKey)).toBe(false);
    expect(verifySecaggDigest(secaggConsistencyDigest(v2), v2sig, site.sign.publicKey)).toBe(true);
  });

  test('neighbourhood (V3): the digest is SHA-256 of the purpose and the canonical statement with sorted lists, whatever order the neighbours or the sets come in', () => {
    const common = { ...round, cohortSha256: secaggCohortDigest(['site-d', 'site-a']), degree: 4, threshold: 3 };
    const u2 = ['site-a', 'site-b', 'site-c', 'site-e'];
    const u3 = ['site-b', 'site-c', 'site-e'];
    const expected = sha256(
      'TWINFED-SECAGG-NEIGHBOURHOOD-V3\n' +
        canonicalJson({
          context: secaggContext(round),
          cohortSha256: common.cohortSha256,
          degree: 4,
          threshold: 3,
          siteId: 'site-c',
          u2: [...u2].sort(),
          u3: [...u3].sort(),
        }),
    );
    const of = (neighbours: string[]) =>
      secaggNeighbourhoodDigest(
        secaggNeighbourhoodStatement({
          ...common,
          siteId: 'site-c',
          neighbours,
          u2: new Set(u2),
          u3: new Set(u3),
        }),
      );
    // The signer first, last and in the middle of its sorted neighbours, and neighbours out of order.
    for (const neighbours of [
      ['site-a', 'site-b', 'site-e', 'site-f'],
      ['site-d', 'site-e', 'site-f', 'site-g'],
      ['site-a', 'site-b'],
      ['site-f', 'site-a', 'site-e', 'site-b'],
    ]) {
      const inU2 = ['site-a', 'site-b', 'site-e'].filter((id) => neighbours.includes(id)); // d, f, g: not in U2
      const want = sha256(
        'TWINFED-SECAGG-NEIGHBOURHOOD-V3\n' +
          canonicalJson({
            context: secaggContext(round),
            cohortSha256: common.cohortSha256,
            degree: 4,
            threshold: 3,
            siteId: 'site-c',
            u2: [...inU2, 'site-c'].sort(),
            u3: [...inU2.filter((id) => u3.includes(id)), 'site-c'].sort(),
          }),
      );
      expect(toB64(of(neighbours))).toBe(toB64(want));
    }
    // A statement built by hand with its lists out of order hashes as the sorted one.
    const byHand = { ...common, siteId: 'site-c', u2: [...u2].reverse(), u3: [...u3].reverse() };
    expect(toB64(secaggNeighbourhoodDigest(byHand))).toBe(toB64(expected));
  });

  test('neighbourhood (V3): the digest hashes exactly the purpose and canonicalJson of the statement, whatever its strings and numbers', () => {
    const text = fc.string({ unit: 'binary', maxLength: 12 });
    fc.assert(
      fc.property(
        fc.record({
          federationId: text,
          round: fc.integer(),
          baseVersionId: text,
          coordinatorFingerprint: text,
          cohortSha256: text,
          degree: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
          threshold: fc.oneof(fc.integer(), fc.constant(-0), fc.double({ noNaN: true, noDefaultInfinity: true })),
          siteId: text,
          u2: fc.array(text, { maxLength: 6 }),
          u3: fc.array(text, { maxLength: 6 }),
        }),
        (s) => {
          const expected = sha256(
            'TWINFED-SECAGG-NEIGHBOURHOOD-V3\n' +
              canonicalJson({
                context: secaggContext(s),
                cohortSha256: s.cohortSha256,
                degree: s.degree,
                threshold: s.threshold,
                siteId: s.siteId,
                u2: [...s.u2].sort(),
                u3: [...s.u3].sort(),
              }),
          );
          expect(toB64(secaggNeighbourhoodDigest(s))).toBe(toB64(expected));
        },
      ),
      { numRuns: 300 },
    );
    const statement = { ...round, cohortSha256: 'x', degree: 4, threshold: 3, siteId: 'a', u2: ['a'], u3: ['a'] };
    for (const bad of [{ degree: Number.NaN }, { threshold: Infinity }])
      expect(() => secaggNeighbourhoodDigest({ ...statement, ...bad })).toThrow(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      );
  });

  test("site directory: the coordinator vouches for a site's keys; any other key or signer fails", () => {
    const coordinator = generateIdentity();
    const entry = {
      siteId: 'site-a',
      signPublicKey: toB64(site.sign.publicKey),
      boxPublicKey: toB64(site.box.publicKey),
    };
    const sig = signSiteDirectoryEntry(entry, coordinator.sign.secretKey);
    expect(signSiteDirectoryEntry(entry, coordinator.sign.secretKey)).toBe(sig); // deterministic
    expect(verifySiteDirectoryEntry(entry, sig, coordinator.sign.publicKey)).toBe(true);
    expect(
      verifySiteDirectoryEntry({ ...entry, boxPublicKey: toB64(other.box.publicKey) }, sig, coordinator.sign.publicKey),
    ).toBe(false);
    expect(verifySiteDirectoryEntry({ ...entry, siteId: 'site-b' }, sig, coordinator.sign.publicKey)).toBe(false);
    expect(
      verifySiteDirectoryEntry(entry, signSiteDirectoryEntry(entry, other.sign.secretKey), coordinator.sign.publicKey),
    ).toBe(false);
  });
});
