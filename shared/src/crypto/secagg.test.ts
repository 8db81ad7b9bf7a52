import { createPrivateKey, createPublicKey, diffieHellman, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { generateIdentity, type Identity } from './identity';
import {
  addRing64,
  decodeRing64,
  encodeRing64,
  expandRing64,
  fromBytesRing64,
  ringToBytes64,
  subRing64,
} from './ring64';
import {
  SECAGG_FRACTION_BITS,
  maskKeyPair,
  maskUpdate,
  openShares,
  recoverMaskSecretKey,
  recoverSelfMaskSeed,
  secaggPairKey,
  secaggThreshold,
  selfMaskCommitment,
  selfMaskSeed,
  shareSecrets,
  unmaskSum,
  type SealedShare,
} from './secagg';
import type { SecureSumMember } from './secure-sum';
import { secaggGraph, type SecaggGraph } from './secagg-graph';

const F = 'fed-1';
const R = 3;
/** The round context: federation, round, base version, coordinator fingerprint. */
const RD = { federationId: F, round: R, baseVersionId: 'fed-1.v2', coordinatorFingerprint: 'aaaa-bbbb' };

interface Site {
  id: string;
  identity: Identity;
  member: SecureSumMember;
  values: Float64Array;
  seed: Uint8Array;
  /** Its round mask public key, as a member of U2. */
  mask: SecureSumMember;
}

function makeSites(n: number, length: number): Site[] {
  return Array.from({ length: n }, (_, i) => {
    const identity = generateIdentity();
    const id = `site-${String.fromCharCode(97 + i)}`;
    return {
      id,
      identity,
      member: { siteId: id, boxPublicKey: identity.box.publicKey },
      values: Float64Array.from({ length }, (_, k) => (i + 1) * 10 * Math.sin(k + i)), // n_u · w_u
      seed: selfMaskSeed({ boxSecretKey: identity.box.secretKey, ...RD }),
      mask: { siteId: id, boxPublicKey: maskKeyPair({ boxSecretKey: identity.box.secretKey, ...RD }).publicKey },
    };
  });
}

/**
 * Runs the whole protocol in memory; `u2`, `u3` and `revealers` pick who reaches each step. With a `graph` (SecAgg+),
 * each site shares with, masks against and reveals for its neighbours only, at the graph's threshold.
 */
async function simulate(opts: {
  sites: Site[];
  inU2: (s: Site) => boolean;
  inU3: (s: Site) => boolean;
  reveals: (s: Site) => boolean;
  graph?: SecaggGraph;
}) {
  const { sites, graph } = opts;
  const near = (u: Site, v: Site) => !graph || u.id === v.id || graph.neighbours(u.id).includes(v.id);
  const t = graph?.threshold ?? secaggThreshold(sites.length, 2);
  const shares = new Map<string, SealedShare[]>();
  for (const s of sites.filter(opts.inU2)) {
    const cohort = sites.filter((v) => near(s, v)).map((v) => v.member);
    shares.set(
      s.id,
      await shareSecrets({ siteId: s.id, boxSecretKey: s.identity.box.secretKey, cohort, threshold: t, ...RD }),
    );
  }
  const u2 = sites.filter((s) => shares.has(s.id));
  const length = sites[0]!.values.length;
  const masked = new Map<string, Uint8Array>();
  for (const s of u2.filter(opts.inU3)) {
    const y = maskUpdate({
      values: s.values,
      siteId: s.id,
      boxSecretKey: s.identity.box.secretKey,
      survivors: u2.filter((x) => near(s, x)).map((x) => x.mask),
      ...RD,
    });
    masked.set(s.id, ringToBytes64(y));
  }
  const u3 = u2.filter((s) => masked.has(s.id));
  const dropped = u2.filter((s) => !masked.has(s.id));
  // Unmasking: each revealing survivor opens the boxes it holds: b shares of survivors, m shares of the dropped.
  const seedShares = new Map<string, Uint8Array[]>();
  const keyShares = new Map<string, Uint8Array[]>();
  const push = (m: Map<string, Uint8Array[]>, k: string, v: Uint8Array) => m.set(k, [...(m.get(k) ?? []), v]);
  for (const u of u3.filter(opts.reveals)) {
    const open = (v: Site) =>
      openShares({
        share: shares.get(v.id)!.find((x) => x.to === u.id)!,
        from: v.member,
        fromMaskPublicKey: v.mask.boxPublicKey,
        siteId: u.id,
        boxSecretKey: u.identity.box.secretKey,
        ...RD,
      });
    for (const v of u3.filter((x) => near(u, x))) push(seedShares, v.id, open(v).seed);
    for (const v of dropped.filter((x) => near(u, x))) push(keyShares, v.id, open(v).maskKey);
  }
  const sum = new Uint32Array(length * 2);
  for (const u of u3) addRing64(sum, fromBytesRing64(masked.get(u.id)!, length));
  const selfSeeds = await Promise.all(
    u3.map((v) =>
      recoverSelfMaskSeed({
        shares: (seedShares.get(v.id) ?? []).slice(0, t),
        commitment: selfMaskCommitment({ seed: v.seed, siteId: v.id, ...RD }),
        siteId: v.id,
        ...RD,
      }),
    ),
  );
  const droppedPairs: Array<{ survivor: string; dropped: string; key: Uint8Array }> = [];
  for (const v of dropped) {
    const maskSecretKey = await recoverMaskSecretKey({
      shares: (keyShares.get(v.id) ?? []).slice(0, t),
      publicKey: v.mask.boxPublicKey,
      siteId: v.id,
    });
    for (const u of u3.filter((x) => x.id !== v.id && near(v, x)))
      droppedPairs.push({
        survivor: u.id,
        dropped: v.id,
        key: secaggPairKey({ maskSecretKey, siteId: v.id, peer: u.mask, ...RD }),
      });
  }
  const plain = decodeRing64(unmaskSum({ sum, selfSeeds, droppedPairs }), SECAGG_FRACTION_BITS);
  const expected = Float64Array.from({ length }, (_, k) => u3.reduce((a, s) => a + s.values[k]!, 0));
  return { plain, expected, masked, u3 };
}

describe('secure aggregation of updates (Bonawitz et al.)', () => {
  test('with every site present, the coordinator recovers exactly the sum and one masked update alone says nothing', async () => {
    const sites = makeSites(4, 50);
    const { plain, expected, masked } = await simulate({
      sites,
      inU2: () => true,
      inU3: () => true,
      reveals: () => true,
    });
    plain.forEach((x, k) => expect(x).toBeCloseTo(expected[k]!, 4));
    // y_a minus its own self mask is still hidden by the pairwise masks: nowhere near encode(x_a).
    const a = sites[0]!;
    const y = fromBytesRing64(masked.get(a.id)!, 50);
    subRing64(y, expandRing64(a.seed, 50));
    const guess = decodeRing64(y, SECAGG_FRACTION_BITS);
    expect(guess.some((g, k) => Math.abs(g - a.values[k]!) > 1e6)).toBe(true);
  });

  test('survives a site that never sent shares, one that sent shares but no update, and one that never reveals', async () => {
    const sites = makeSites(10, 20); // t = ⌊20/3⌋ + 1 = 7
    const [, b, c, , , f, g] = sites;
    // b never sends shares (not in U2), c sends shares but no update (U2, not U3), f never reveals.
    const { plain, expected, u3 } = await simulate({
      sites,
      inU2: (s) => s !== b,
      inU3: (s) => s !== c,
      reveals: (s) => s !== f,
    });
    expect(u3.map((s: Site) => s.id)).toEqual([
      'site-a',
      'site-d',
      'site-e',
      'site-f',
      'site-g',
      'site-h',
      'site-i',
      'site-j',
    ]);
    plain.forEach((x, k) => expect(x).toBeCloseTo(expected[k]!, 4));
    // With one more silent site only 6 < t shares reach the coordinator: the seeds cannot be recovered.
    await expect(
      simulate({ sites, inU2: (s) => s !== b, inU3: (s) => s !== c, reveals: (s) => s !== f && s !== g }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  test("SecAgg+: over a sparse graph, with 10 % of the sites dropping after they shared, the unmasked sum is the survivors' sum", async () => {
    const sites = makeSites(60, 30);
    const graph = secaggGraph({
      ...RD,
      cohort: sites.map((s) => s.id),
      minSites: 2,
      options: { graph: 'sparse', dropoutFraction: 0.1, corruptFraction: 0.1 },
    });
    expect(graph.kind).toBe('sparse');
    expect(graph.degree).toBeLessThan(sites.length - 1);
    const droppers = new Set(sites.filter((_, i) => i % 10 === 3).map((s) => s.id)); // 6 of 60, after sharing
    const { plain, expected, u3 } = await simulate({
      sites,
      graph,
      inU2: () => true,
      inU3: (s) => !droppers.has(s.id),
      reveals: () => true,
    });
    expect(u3).toHaveLength(54);
    plain.forEach((x, k) => expect(x).toBeCloseTo(expected[k]!, 4));
  });

  test("SecAgg+: a site masks against its neighbours only: its self mask and its neighbours' pairwise masks are all there is", async () => {
    const sites = makeSites(30, 8);
    const graph = secaggGraph({
      ...RD,
      cohort: sites.map((s) => s.id),
      minSites: 2,
      options: { graph: 'sparse', dropoutFraction: 0.1, corruptFraction: 0.1 },
    });
    const { masked } = await simulate({ sites, graph, inU2: () => true, inU3: () => true, reveals: () => true });
    const a = sites[7]!;
    expect(graph.neighbours(a.id)).toHaveLength(graph.degree);
    const y = fromBytesRing64(masked.get(a.id)!, 8);
    subRing64(y, expandRing64(a.seed, 8));
    const maskSecretKey = maskKeyPair({ boxSecretKey: a.identity.box.secretKey, ...RD }).secretKey;
    for (const v of sites.filter((x) => graph.neighbours(a.id).includes(x.id))) {
      const mask = expandRing64(secaggPairKey({ maskSecretKey, siteId: a.id, peer: v.mask, ...RD }), 8);
      if (a.id < v.id) subRing64(y, mask);
      else addRing64(y, mask);
    }
    decodeRing64(y, SECAGG_FRACTION_BITS).forEach((x, k) => expect(x).toBeCloseTo(a.values[k]!, 4));
  });

  test('a tampered or foreign share is caught by the box, the commitment or the public key', async () => {
    const sites = makeSites(3, 4);
    const cohort = sites.map((s) => s.member);
    const [a, b] = sites as [Site, Site];
    const sealed = await shareSecrets({
      siteId: a.id,
      boxSecretKey: a.identity.box.secretKey,
      cohort,
      threshold: 2,
      ...RD,
    });
    const toB = sealed.find((s) => s.to === b.id)!;
    // Every box has a nonce of its own (drawn together, each 24 random bytes), and a second sharing draws new ones.
    const again = await shareSecrets({
      siteId: a.id,
      boxSecretKey: a.identity.box.secretKey,
      cohort,
      threshold: 2,
      ...RD,
    });
    const nonces = [...sealed, ...again].map((s) => s.nonce);
    expect(new Set(nonces).size).toBe(2 * cohort.length);
    expect(nonces.every((n) => Buffer.from(n, 'base64').byteLength === 24)).toBe(true);
    // The box is bound to the sender's round mask key: a coordinator that substitutes M_a gets a box that does not open.
    expect(() =>
      openShares({
        share: toB,
        from: a.member,
        fromMaskPublicKey: b.mask.boxPublicKey,
        siteId: b.id,
        boxSecretKey: b.identity.box.secretKey,
        ...RD,
      }),
    ).toThrow(expect.objectContaining({ code: 'DECRYPT_FAILED' }));
    expect(() =>
      openShares({
        share: toB,
        from: a.member,
        fromMaskPublicKey: a.mask.boxPublicKey,
        siteId: b.id,
        boxSecretKey: b.identity.box.secretKey,
        ...RD,
        baseVersionId: 'other',
      }),
    ).toThrow(expect.objectContaining({ code: 'DECRYPT_FAILED' }));
    expect(() =>
      openShares({
        share: toB,
        from: a.member,
        fromMaskPublicKey: a.mask.boxPublicKey,
        siteId: b.id,
        boxSecretKey: b.identity.box.secretKey,
        ...RD,
        round: R + 1,
      }),
    ).toThrow(expect.objectContaining({ code: 'DECRYPT_FAILED' }));
    expect(() =>
      openShares({
        share: toB,
        from: b.member,
        fromMaskPublicKey: a.mask.boxPublicKey,
        siteId: b.id,
        boxSecretKey: b.identity.box.secretKey,
        ...RD,
      }),
    ).toThrow(expect.objectContaining({ code: 'DECRYPT_FAILED' }));
    const opened = [0, 1].map((i) =>
      openShares({
        share: sealed[i]!,
        from: a.member,
        fromMaskPublicKey: a.mask.boxPublicKey,
        siteId: sites[i]!.id,
        boxSecretKey: sites[i]!.identity.box.secretKey,
        ...RD,
      }),
    );
    const commitment = selfMaskCommitment({ seed: a.seed, siteId: a.id, ...RD });
    expect(await recoverSelfMaskSeed({ shares: opened.map((o) => o.seed), commitment, siteId: a.id, ...RD })).toEqual(
      a.seed,
    );
    expect(
      await recoverMaskSecretKey({
        shares: opened.map((o) => o.maskKey),
        publicKey: a.mask.boxPublicKey,
        siteId: a.id,
      }),
    ).toEqual(maskKeyPair({ boxSecretKey: a.identity.box.secretKey, ...RD }).secretKey);
    const bad = opened.map((o) => o.seed.slice());
    bad[0]!.set([bad[0]![3]! ^ 1], 3);
    await expect(recoverSelfMaskSeed({ shares: bad, commitment, siteId: a.id, ...RD })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    const badKey = opened.map((o) => o.maskKey.slice());
    badKey[1]!.set([badKey[1]![0]! ^ 1], 0);
    await expect(
      recoverMaskSecretKey({ shares: badKey, publicKey: a.mask.boxPublicKey, siteId: a.id }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  test("its derived secrets are the documented HKDF-SHA256 outputs (node's hkdfSync) for random round contexts", () => {
    const ctx = (r: typeof RD) =>
      `twinfed/secagg/v3\n${r.federationId}\n${r.round}\n${r.baseVersionId}\n${r.coordinatorFingerprint}`;
    const hkdf = (ikm: Uint8Array, salt: string, info: string) =>
      new Uint8Array(hkdfSync('sha256', ikm, Buffer.from(salt), Buffer.from(info), 32));
    const peer = generateIdentity();
    fc.assert(
      fc.property(
        fc.record({
          federationId: fc.string({ minLength: 1, maxLength: 20 }),
          round: fc.nat(),
          baseVersionId: fc.string({ maxLength: 20 }),
          coordinatorFingerprint: fc.string({ maxLength: 20 }),
        }),
        fc.string({ minLength: 1, maxLength: 12 }),
        fc.string({ minLength: 1, maxLength: 12 }),
        (rd, siteId, peerId) => {
          const boxSecretKey = generateIdentity().box.secretKey;
          expect(selfMaskSeed({ ...rd, boxSecretKey })).toEqual(
            hkdf(boxSecretKey, 'twinfed/secagg/v3', `twinfed/secagg/v3/self\n${ctx(rd)}`),
          );
          const maskSecretKey = maskKeyPair({ ...rd, boxSecretKey }).secretKey;
          expect(maskSecretKey).toEqual(
            hkdf(boxSecretKey, 'twinfed/secagg/v3', `twinfed/secagg/v3/mask-key\n${ctx(rd)}`),
          );
          const [lo, hi] = siteId < peerId ? [siteId, peerId] : [peerId, siteId];
          const shared = diffieHellman({
            privateKey: createPrivateKey({
              key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), maskSecretKey]),
              format: 'der',
              type: 'pkcs8',
            }),
            publicKey: createPublicKey({
              key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(peer.box.publicKey).toString('base64url') },
              format: 'jwk',
            }),
          });
          expect(
            secaggPairKey({ ...rd, maskSecretKey, siteId, peer: { siteId: peerId, boxPublicKey: peer.box.publicKey } }),
          ).toEqual(hkdf(shared, 'twinfed/secure-sum/v1', `twinfed/secure-sum/v1\n${ctx(rd)}\n${lo}\n${hi}`));
        },
      ),
      { numRuns: 40 },
    );
  });

  test('masks are deterministic per (site key, federation, round, base version, coordinator): a restarted site holds the same secrets', () => {
    const sites = makeSites(3, 8);
    const a = sites[0]!;
    const again = selfMaskSeed({ boxSecretKey: a.identity.box.secretKey, ...RD });
    expect(again).toEqual(a.seed);
    expect(selfMaskSeed({ boxSecretKey: a.identity.box.secretKey, ...RD, round: R + 1 })).not.toEqual(a.seed);
    expect(selfMaskSeed({ boxSecretKey: a.identity.box.secretKey, ...RD, baseVersionId: 'fed-1.v1' })).not.toEqual(
      a.seed,
    );
    expect(
      selfMaskSeed({ boxSecretKey: a.identity.box.secretKey, ...RD, coordinatorFingerprint: 'cccc-dddd' }),
    ).not.toEqual(a.seed);
    expect(
      maskKeyPair({ boxSecretKey: a.identity.box.secretKey, ...RD, coordinatorFingerprint: 'cccc-dddd' }).publicKey,
    ).not.toEqual(a.mask.boxPublicKey);
    const mask = () =>
      maskUpdate({
        values: a.values,
        siteId: a.id,
        boxSecretKey: a.identity.box.secretKey,
        survivors: sites.map((s) => s.mask),
        ...RD,
      });
    expect(mask()).toEqual(mask());
  });

  test('thresholds are more than two thirds of the cohort and at least minSites; cohorts under 3 and bad cohorts are refused', async () => {
    expect([3, 4, 5, 6, 7, 9, 10, 30].map((n) => secaggThreshold(n, 2))).toEqual([3, 3, 4, 5, 5, 7, 7, 21]);
    for (let n = 3; n <= 255; n++) expect(3 * secaggThreshold(n, 2)).toBeGreaterThan(2 * n);
    expect(secaggThreshold(10, 8)).toBe(8);
    const sites = makeSites(3, 2);
    const a = sites[0]!;
    const base = { siteId: a.id, boxSecretKey: a.identity.box.secretKey, ...RD };
    await expect(shareSecrets({ ...base, cohort: [a.member], threshold: 2 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(shareSecrets({ ...base, cohort: [a.member, sites[1]!.member], threshold: 2 })).rejects.toMatchObject({
      code: 'SECAGG_COHORT_TOO_SMALL',
    });
    await expect(
      shareSecrets({ ...base, cohort: [a.member, sites[1]!.member, sites[1]!.member], threshold: 2 }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(shareSecrets({ ...base, cohort: sites.map((s) => s.member), threshold: 4 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(() =>
      maskUpdate({
        ...base,
        values: [1, 2],
        survivors: [sites[1]!.member, { siteId: 'site-z', boxPublicKey: a.identity.box.publicKey }],
      }),
    ).toThrow(/not in the cohort/);
    expect(encodeRing64([1], SECAGG_FRACTION_BITS)).toBeDefined();
  });

  test('the mask key pair is derived once per identity and round: the same secret array, another for another round or secret', () => {
    const a = makeSites(1, 2)[0]!;
    const secret = Uint8Array.from(a.identity.box.secretKey);
    const first = maskKeyPair({ ...RD, boxSecretKey: secret });
    expect(maskKeyPair({ ...RD, boxSecretKey: secret }).secretKey).toBe(first.secretKey);
    expect(maskKeyPair({ ...RD, boxSecretKey: Uint8Array.from(secret) }).secretKey).toEqual(first.secretKey);
    const next = maskKeyPair({ ...RD, round: RD.round + 1, boxSecretKey: secret });
    expect(next.secretKey).not.toEqual(first.secretKey);
    secret.set(makeSites(1, 2)[0]!.identity.box.secretKey); // the same array, another identity
    expect(maskKeyPair({ ...RD, boxSecretKey: secret }).publicKey).not.toEqual(first.publicKey);
  });
});
