/**
 * Cost of secure aggregation (cost per site vs sites and model size), against the
 * plain aggregation it replaces, measured in the same run: the site's extra work (share its secrets, mask its update)
 * and the coordinator's (add the masked vectors, recombine the seeds, remove the masks; once more with a fraction of
 * the sites dropped after masking) next to a bare example-weighted sum of the same float vectors; and the signatures
 * that hold it against a lying coordinator (envelope/secagg-statements, envelope/site-directory), per site and round.
 * `graph` picks Bonawitz's complete graph or SecAgg+'s sparse one (crypto/secagg-graph): each site then shares with,
 * masks against and reveals for its k neighbours only.
 */
import {
  SECAGG_FRACTION_BITS,
  addRing64,
  decodeRing64,
  generateIdentity,
  maskKeyPair,
  maskUpdate,
  openShares,
  recoverMaskSecretKey,
  recoverSelfMaskSeed,
  secaggCohortDigest,
  secaggConsistencyDigest,
  secaggGraph,
  secaggNeighbourhoodDigest,
  secaggNeighbourhoodStatement,
  secaggPairKey,
  secaggThreshold,
  selfMaskCommitment,
  selfMaskSeed,
  shareSecrets,
  shareBoxesDigest,
  signSecaggConsistency,
  signSecaggKeys,
  signSecaggNeighbourhood,
  signSiteDirectoryEntry,
  toB64,
  unmaskSum,
  verifySecaggDigest,
  verifySecaggKeys,
  verifySiteDirectoryEntry,
  type Ring64,
} from '@twinfed/shared';

/** Milliseconds of each step for one configuration. */
interface SecaggBenchResult {
  readonly sites: number;
  readonly size: number;
  /** The graph used, its degree k (neighbours per site) and the Shamir threshold t of a neighbourhood. */
  readonly graph: 'complete' | 'sparse';
  readonly degree: number;
  readonly threshold: number;
  /** Sites dropped after masking in the "dropped" measurement. */
  readonly dropped: number;
  /** One site: Shamir-share and seal its secrets for each of its neighbours and itself. */
  readonly siteShareMs: number;
  /** One site: mask its update (self mask + one pairwise mask per neighbour). */
  readonly siteMaskMs: number;
  /**
   * One site, against a lying coordinator: verify the signed directory entry of every cohort member (a sparse graph:
   * of its neighbours), sign its keys and box digest, verify each neighbour's key signature, sign the consistency
   * statement and verify t_global signatures over it (a sparse graph: its neighbourhood statement, and t_g of its
   * closed neighbourhood's, each over the signer's neighbourhood).
   */
  readonly siteSignaturesMs: number;
  /** Coordinator: sum the masked vectors, recombine the seeds, remove the masks (nobody dropped). */
  readonly serverMs: number;
  /** The same with `dropped` sites gone after masking (their mask keys recombined, their pairwise masks removed). */
  readonly serverDroppedMs: number;
  /** Reference: a bare example-weighted sum of the same float vectors (what plain FedAvg folds). */
  readonly plainSumMs: number;
  /** Largest |unmasked − plain| over the survivors' sum with the drops (fixed-point error, 2^-20 per site). */
  readonly maxAbsError: number;
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

/**
 * Times every step (median of `iterations`, default 3) on `sites` synthetic sites with `size` parameters each, over
 * the `graph` (default complete; sparse: δ = γ = 0.1), with `dropFraction` (default 10 %, at least one site) dropping
 * after masking. Keeps one masked vector in memory (the sum of the others is folded as they are made), so 1,000
 * sites × 100k parameters fit; the coordinator's timed sum adds that vector once per survivor.
 */
export async function benchSecureAggregation(opts: {
  sites: number;
  size: number;
  iterations?: number;
  graph?: 'complete' | 'sparse';
  dropFraction?: number;
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
  type Site = (typeof sites)[number];
  const ids = sites.map((s) => s.siteId);
  const graph = secaggGraph({
    ...round,
    cohort: ids,
    minSites: 2,
    options: { graph: opts.graph ?? 'complete', dropoutFraction: 0.1, corruptFraction: 0.1 },
  });
  const tGlobal = secaggThreshold(opts.sites, 2);
  const t = graph.threshold;
  const byId = new Map(sites.map((s) => [s.siteId, s]));
  const near = new Map(sites.map((s) => [s.siteId, [s, ...graph.neighbours(s.siteId).map((id) => byId.get(id)!)]]));
  const nearOf = (s: Site) => near.get(s.siteId)!;
  const valuesOf = (i: number) => Float64Array.from({ length: opts.size }, (_, k) => Math.sin(k + i) * 10);
  const shares = new Map<string, Awaited<ReturnType<typeof shareSecrets>>>();
  const share = (s: Site) =>
    shareSecrets({ ...s.ctx, siteId: s.siteId, cohort: nearOf(s).map((x) => x.member), threshold: t });
  for (const s of sites) shares.set(s.siteId, await share(s));
  const siteShareMs = await ms(() => share(sites[0]!), it);
  const mask = (s: Site, values: Float64Array) =>
    maskUpdate({ ...s.ctx, values, siteId: s.siteId, survivors: nearOf(s).map((x) => x.mask) });
  const dropped = Math.max(1, Math.floor(opts.sites * (opts.dropFraction ?? 0.1)));
  // Which sites drop: every ⌊n / dropped⌋-th, so they spread over the graph's order like random ones.
  const step = Math.floor(opts.sites / dropped);
  const gone = new Set(sites.filter((_, i) => i % step === step - 1).slice(0, dropped));
  const u3Dropped = sites.filter((s) => !gone.has(s));
  // Σ y over everyone and over the survivors (as the coordinator would add them), and the plain survivors' sum.
  const sumAll = new Uint32Array(opts.size * 2);
  const sumSurvivors = new Uint32Array(opts.size * 2);
  const plainSurvivors = new Float64Array(opts.size);
  let masked0: Ring64 = new Uint32Array(0);
  for (const [i, s] of sites.entries()) {
    const values = valuesOf(i);
    const y = mask(s, values);
    addRing64(sumAll, y);
    if (!gone.has(s)) {
      addRing64(sumSurvivors, y);
      for (let k = 0; k < values.length; k++) plainSurvivors[k]! += values[k]!;
    }
    if (i === 0) masked0 = y;
  }
  const siteMaskMs = await ms(() => mask(sites[0]!, valuesOf(0)), it);

  const coordinator = generateIdentity();
  const directory = sites.map((s) => {
    const entry = {
      siteId: s.siteId,
      signPublicKey: toB64(s.identity.sign.publicKey),
      boxPublicKey: toB64(s.identity.box.publicKey),
    };
    return { entry, signature: signSiteDirectoryEntry(entry, coordinator.sign.secretKey) };
  });
  const keys = new Map(
    sites.map((s) => {
      const statement = {
        ...round,
        siteId: s.siteId,
        maskPublicKey: toB64(s.mask.boxPublicKey),
        boxesSha256: shareBoxesDigest(shares.get(s.siteId)!),
      };
      return [s.siteId, { statement, signature: signSecaggKeys(statement, s.identity.sign.secretKey) }];
    }),
  );
  // The consistency step: the complete graph's one statement, t_global signatures over it; a sparse graph's
  // neighbourhood statements (V3), one per signer, t_g of the site's closed neighbourhood.
  const consistency = { ...round, threshold: tGlobal, cohort: ids, u2: ids, u3: ids };
  const everyone = new Set(ids);
  const cohortSha256 = secaggCohortDigest(ids);
  const neighbourhood = (siteId: string) =>
    secaggNeighbourhoodStatement({
      ...round,
      cohortSha256,
      degree: graph.degree,
      threshold: graph.threshold,
      siteId,
      neighbours: graph.neighbours(siteId),
      u2: everyone,
      u3: everyone,
    });
  const sparse = graph.kind === 'sparse';
  const checked = sparse ? nearOf(sites[0]!).slice(0, graph.threshold) : sites.slice(0, tGlobal);
  const consistencySigs = checked.map((s) =>
    sparse
      ? signSecaggNeighbourhood(neighbourhood(s.siteId), s.identity.sign.secretKey)
      : signSecaggConsistency(consistency, s.identity.sign.secretKey),
  );
  const nearIds = new Set(nearOf(sites[0]!).map((s) => s.siteId));
  const siteSignaturesMs = await ms(() => {
    const me = sites[0]!;
    for (const d of directory)
      if (
        (!sparse || nearIds.has(d.entry.siteId)) &&
        !verifySiteDirectoryEntry(d.entry, d.signature, coordinator.sign.publicKey)
      )
        throw new Error('directory');
    signSecaggKeys(keys.get(me.siteId)!.statement, me.identity.sign.secretKey);
    for (const v of nearOf(me)) {
      const k = keys.get(v.siteId)!;
      if (!verifySecaggKeys(k.statement, k.signature, v.identity.sign.publicKey)) throw new Error('keys');
    }
    if (sparse) signSecaggNeighbourhood(neighbourhood(me.siteId), me.identity.sign.secretKey);
    else signSecaggConsistency(consistency, me.identity.sign.secretKey);
    const digest = sparse ? undefined : secaggConsistencyDigest(consistency);
    checked.forEach((s, i) => {
      const d = digest ?? secaggNeighbourhoodDigest(neighbourhood(s.siteId));
      if (!verifySecaggDigest(d, consistencySigs[i]!, s.identity.sign.publicKey)) throw new Error('consistency');
    });
  }, it);

  // What the revealing sites hand over (opened before the clock starts: that is the sites' work, not the server's).
  const open = (holder: Site, of: Site) =>
    openShares({
      ...holder.ctx,
      share: shares.get(of.siteId)!.find((x) => x.to === holder.siteId)!,
      from: of.member,
      fromMaskPublicKey: of.mask.boxPublicKey,
      siteId: holder.siteId,
    });
  /** The first t shares of `of`'s secrets held by survivors (`of` itself included when it survived). */
  const revealed = (of: Site, u3: ReadonlySet<Site>) =>
    nearOf(of)
      .filter((h) => u3.has(h))
      .slice(0, t)
      .map((h) => open(h, of));
  const reveals = (u3: readonly Site[], lost: readonly Site[]) => {
    const set = new Set(u3);
    return {
      seeds: new Map(u3.map((v) => [v.siteId, revealed(v, set).map((o) => o.seed)])),
      maskKeys: new Map(lost.map((v) => [v.siteId, revealed(v, set).map((o) => o.maskKey)])),
    };
  };
  async function server(u3: readonly Site[], lost: readonly Site[], sum: Uint32Array, r: ReturnType<typeof reveals>) {
    const scratch = new Uint32Array(opts.size * 2);
    for (let i = 0; i < u3.length; i++) addRing64(scratch, masked0);
    const out = Uint32Array.from(sum);
    const seeds = await Promise.all(
      u3.map((v) =>
        recoverSelfMaskSeed({
          ...round,
          siteId: v.siteId,
          shares: r.seeds.get(v.siteId)!,
          commitment: selfMaskCommitment({ ...round, seed: selfMaskSeed(v.ctx), siteId: v.siteId }),
        }),
      ),
    );
    const survivors = new Set(u3);
    const droppedPairs: Array<{ survivor: string; dropped: string; key: Uint8Array }> = [];
    for (const v of lost) {
      const maskSecretKey = await recoverMaskSecretKey({
        shares: r.maskKeys.get(v.siteId)!,
        publicKey: v.mask.boxPublicKey,
        siteId: v.siteId,
      });
      for (const u of nearOf(v).filter((x) => x !== v && survivors.has(x)))
        droppedPairs.push({
          survivor: u.siteId,
          dropped: v.siteId,
          key: secaggPairKey({ ...round, maskSecretKey, siteId: v.siteId, peer: u.mask }),
        });
    }
    return unmaskSum({ sum: out, selfSeeds: seeds, droppedPairs });
  }
  const all = reveals(sites, []);
  const serverMs = await ms(() => server(sites, [], sumAll, all), it);
  const lost = sites.filter((s) => gone.has(s));
  const withDrops = reveals(u3Dropped, lost);
  const serverDroppedMs = await ms(() => server(u3Dropped, lost, sumSurvivors, withDrops), it);
  const unmasked = decodeRing64(await server(u3Dropped, lost, sumSurvivors, withDrops), SECAGG_FRACTION_BITS);
  const maxAbsError = unmasked.reduce((m, x, k) => Math.max(m, Math.abs(x - plainSurvivors[k]!)), 0);

  const floats = sites.map((_, i) => Float32Array.from(valuesOf(i)));
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
    graph: graph.kind,
    degree: graph.degree,
    threshold: t,
    dropped,
    siteShareMs,
    siteMaskMs,
    siteSignaturesMs,
    serverMs,
    serverDroppedMs,
    plainSumMs,
    maxAbsError,
  };
}
