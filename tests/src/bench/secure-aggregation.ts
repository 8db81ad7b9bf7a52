/**
 * Cost of secure aggregation (cost per site vs sites and model size), against the
 * plain aggregation it replaces, measured in the same run: the site's extra work (share its secrets, mask its update)
 * and the coordinator's (add the masked vectors, recombine t seeds, remove the masks; once more with one site dropped
 * after sharing) next to a bare example-weighted sum of the same float vectors; and the signatures that hold it
 * against a lying coordinator (envelope/secagg-statements, envelope/site-directory), per site and round.
 */
import {
  addRing64,
  fromBytesRing64,
  generateIdentity,
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
  ringToBytes64,
  shareBoxesDigest,
  signSecaggConsistency,
  signSecaggKeys,
  signSiteDirectoryEntry,
  toB64,
  unmaskSum,
  verifySecaggConsistency,
  verifySecaggKeys,
  verifySiteDirectoryEntry,
} from '@twinfed/shared';

/** Milliseconds of each step for one configuration. */
interface SecaggBenchResult {
  readonly sites: number;
  readonly size: number;
  /** One site: Shamir-share and seal its secrets for every cohort member. */
  readonly siteShareMs: number;
  /** One site: mask its update (self mask + one pairwise mask per other site). */
  readonly siteMaskMs: number;
  /**
   * One site, against a lying coordinator: verify the signed directory entry of every cohort member, sign its keys and
   * box digest, verify every survivor's key signature, sign the consistency statement, verify t of them.
   */
  readonly siteSignaturesMs: number;
  /** Coordinator: sum the masked vectors, recombine the seeds, remove the masks (nobody dropped). */
  readonly serverMs: number;
  /** The same with one site dropped after sharing (its mask key recombined, its pairwise masks removed). */
  readonly serverDroppedMs: number;
  /** Reference: a bare example-weighted sum of the same float vectors (what plain FedAvg folds). */
  readonly plainSumMs: number;
}

/** Median milliseconds of `iterations` runs after one warm-up run (robust to JIT warm-up and GC pauses). */
async function ms(fn: () => unknown, iterations: number): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

/** Times every step (median of `iterations`, default 3) on `sites` synthetic sites with `size` parameters each. */
export async function benchSecureAggregation(opts: {
  sites: number;
  size: number;
  iterations?: number;
}): Promise<SecaggBenchResult> {
  const it = opts.iterations ?? 3;
  const F = 'fed-bench';
  const R = 1;
  const round = { federationId: F, round: R, baseVersionId: `${F}.v0`, coordinatorFingerprint: 'bench' };
  const sites = Array.from({ length: opts.sites }, (_, i) => {
    const identity = generateIdentity();
    const siteId = `site-${String(i).padStart(4, '0')}`;
    const ctx = { ...round, boxSecretKey: identity.box.secretKey };
    return {
      siteId,
      identity,
      ctx,
      member: { siteId, boxPublicKey: identity.box.publicKey },
      mask: { siteId, boxPublicKey: maskKeyPair(ctx).publicKey },
    };
  });
  const values = Float64Array.from({ length: opts.size }, (_, k) => Math.sin(k) * 10);
  const t = secaggThreshold(opts.sites, 2);
  const cohort = sites.map((s) => s.member);
  const shares = new Map<string, Awaited<ReturnType<typeof shareSecrets>>>();
  for (const s of sites) shares.set(s.siteId, await shareSecrets({ ...s.ctx, siteId: s.siteId, cohort, threshold: t }));
  const siteShareMs = await ms(
    () => shareSecrets({ ...sites[0]!.ctx, siteId: sites[0]!.siteId, cohort, threshold: t }),
    it,
  );
  const survivors = sites.map((s) => s.mask);
  const masked = sites.map((s) => ringToBytes64(maskUpdate({ ...s.ctx, values, siteId: s.siteId, survivors })));
  const siteMaskMs = await ms(() => maskUpdate({ ...sites[0]!.ctx, values, siteId: sites[0]!.siteId, survivors }), it);

  const coordinator = generateIdentity();
  const directory = sites.map((s) => {
    const entry = {
      siteId: s.siteId,
      signPublicKey: toB64(s.identity.sign.publicKey),
      boxPublicKey: toB64(s.identity.box.publicKey),
    };
    return { entry, signature: signSiteDirectoryEntry(entry, coordinator.sign.secretKey) };
  });
  const keys = sites.map((s) => {
    const statement = {
      ...round,
      siteId: s.siteId,
      maskPublicKey: toB64(s.mask.boxPublicKey),
      boxesSha256: shareBoxesDigest(shares.get(s.siteId)!),
    };
    return { statement, signature: signSecaggKeys(statement, s.identity.sign.secretKey) };
  });
  const ids = sites.map((s) => s.siteId);
  const consistency = { ...round, threshold: t, cohort: ids, u2: ids, u3: ids };
  const consistencySigs = sites.map((s) => signSecaggConsistency(consistency, s.identity.sign.secretKey));
  const siteSignaturesMs = await ms(() => {
    const me = sites[0]!;
    for (const d of directory)
      if (!verifySiteDirectoryEntry(d.entry, d.signature, coordinator.sign.publicKey)) throw new Error('directory');
    signSecaggKeys(
      { ...keys[0]!.statement, boxesSha256: shareBoxesDigest(shares.get(me.siteId)!) },
      me.identity.sign.secretKey,
    );
    for (const [i, k] of keys.entries())
      if (!verifySecaggKeys(k.statement, k.signature, sites[i]!.identity.sign.publicKey)) throw new Error('keys');
    signSecaggConsistency(consistency, me.identity.sign.secretKey);
    for (let i = 0; i < t; i++)
      if (!verifySecaggConsistency(consistency, consistencySigs[i]!, sites[i]!.identity.sign.publicKey))
        throw new Error('consistency');
  }, it);

  // What the revealing sites hand over (opened before the clock starts: that is the sites' work, not the server's).
  const opened = new Map<string, ReturnType<typeof openShares>>();
  for (const holder of sites) {
    for (const of of sites)
      opened.set(
        `${holder.siteId}>${of.siteId}`,
        openShares({
          ...holder.ctx,
          share: shares.get(of.siteId)!.find((x) => x.to === holder.siteId)!,
          from: of.member,
          fromMaskPublicKey: of.mask.boxPublicKey,
          siteId: holder.siteId,
        }),
      );
  }
  const open = (holder: (typeof sites)[number], of: (typeof sites)[number]) =>
    opened.get(`${holder.siteId}>${of.siteId}`)!;
  async function server(dropped: number): Promise<void> {
    const u3 = sites.slice(0, sites.length - dropped);
    const gone = sites.slice(sites.length - dropped);
    const revealers = u3.slice(0, t);
    const sum = new Uint32Array(opts.size * 2);
    for (let i = 0; i < u3.length; i++) addRing64(sum, fromBytesRing64(masked[i]!, opts.size));
    const seeds = await Promise.all(
      u3.map((v) =>
        recoverSelfMaskSeed({
          ...round,
          siteId: v.siteId,
          shares: revealers.map((u) => open(u, v).seed),
          commitment: selfMaskCommitment({ ...round, seed: selfMaskSeed(v.ctx), siteId: v.siteId }),
        }),
      ),
    );
    const droppedPairs: Array<{ survivor: string; dropped: string; key: Uint8Array }> = [];
    for (const v of gone) {
      const maskSecretKey = await recoverMaskSecretKey({
        shares: revealers.map((u) => open(u, v).maskKey),
        publicKey: v.mask.boxPublicKey,
        siteId: v.siteId,
      });
      for (const u of u3)
        droppedPairs.push({
          survivor: u.siteId,
          dropped: v.siteId,
          key: secaggPairKey({ ...round, maskSecretKey, siteId: v.siteId, peer: u.mask }),
        });
    }
    unmaskSum({ sum, selfSeeds: seeds, droppedPairs });
  }
  const serverMs = await ms(() => server(0), it);
  const serverDroppedMs = await ms(() => server(1), it);

  const floats = sites.map(() => Float32Array.from(values));
  const plainSumMs = await ms(() => {
    const acc = new Float64Array(opts.size);
    for (const [i, w] of floats.entries()) {
      const n = 10 + i;
      for (let k = 0; k < w.length; k++) acc[k]! += n * w[k]!;
    }
    return acc;
  }, it);
  return {
    sites: opts.sites,
    size: opts.size,
    siteShareMs,
    siteMaskMs,
    siteSignaturesMs,
    serverMs,
    serverDroppedMs,
    plainSumMs,
  };
}
