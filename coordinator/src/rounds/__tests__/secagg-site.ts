import {
  PROTOCOL_VERSION,
  fingerprint,
  fromB64,
  maskKeyPair,
  openShares,
  routes,
  sealMaskedUpdate,
  selfMaskCommitment,
  selfMaskSeed,
  shareBoxesDigest,
  shareSecrets,
  signSecaggConsistency,
  signSecaggKeys,
  signSecaggNeighbourhood,
  secaggCohortDigest,
  secaggConsistencyMac,
  secaggGraph,
  secaggNeighbourhoodDigest,
  secaggNeighbourhoodStatement,
  toB64,
  DEFAULT_SECAGG_GRAPH,
  type SecaggGraphOptions,
  type SecaggState,
} from '@twinfed/shared';
import { json, type TestSite } from '../../__tests__/harness';

/**
 * A site following the secure-aggregation protocol by hand over real HTTP (the site client's SecureRound does the
 * same in production, and checks more): key shares, the masked upload's envelope, the consistency signature and
 * the reveal, over the round's graph (complete, or SecAgg+'s sparse one: `plan` holds the plan's `minSites` and graph
 * options). What goes in the masked vector is the caller's (see `postMasked`).
 */
export function secaggSite(
  site: TestSite,
  fid: string,
  baseVersionId: string,
  plan: { minSites: number; graph: SecaggGraphOptions } = { minSites: 2, graph: DEFAULT_SECAGG_GRAPH },
) {
  const coordinatorFingerprint = fingerprint({
    signPublicKey: site.coordinatorSignPublicKey,
    boxPublicKey: site.coordinatorBoxPublicKey,
  });
  const rd = (round: number) => ({ federationId: fid, round, baseVersionId, coordinatorFingerprint });
  const ctx = (round: number) => ({ ...rd(round), boxSecretKey: site.identity.box.secretKey });
  /**
   * The round as this site sees it: the full view (what sites before `view=neighbourhood` read), or the asked one;
   * with `have`, less the sections it says it holds.
   */
  const state = (round: number, view?: 'full' | 'neighbourhood' | 'everything', have?: string) => {
    const query = new URLSearchParams({ ...(view ? { view } : {}), ...(have ? { have } : {}) });
    const search = query.size > 0 ? `?${query.toString()}` : '';
    return json<SecaggState>(site.request('GET', `${routes.secagg(fid, round)}${search}`));
  };
  /** The round's graph as this site computes it, and the sites it deals with: itself and its neighbours. */
  const graphOf = (round: number, s: SecaggState) => {
    const graph = secaggGraph({
      ...rd(round),
      cohort: s.cohort.map((m) => m.siteId),
      minSites: plan.minSites,
      options: plan.graph,
    });
    return { graph, near: new Set([site.siteId, ...graph.neighbours(site.siteId)]) };
  };
  return {
    site,
    state,
    rd,
    ctx,
    /** The survivors (U2) of the round as the masking functions take them. */
    async survivors(round: number): Promise<Array<{ siteId: string; boxPublicKey: Uint8Array }>> {
      const s = await state(round);
      const { near } = graphOf(round, s);
      return (s.survivors ?? [])
        .filter((m) => near.has(m.siteId))
        .map((m) => ({ siteId: m.siteId, boxPublicKey: fromB64(m.maskPublicKey) }));
    },
    /** The body of its key-share message (signed with `signWith`, by default its own key). */
    async sharesBody(round: number, signWith = site.identity.sign.secretKey) {
      const s = await state(round);
      const { graph, near } = graphOf(round, s);
      const cohort = s.cohort
        .filter((m) => near.has(m.siteId))
        .map((m) => ({ siteId: m.siteId, boxPublicKey: fromB64(m.boxPublicKey) }));
      const threshold = graph.kind === 'complete' ? s.threshold : graph.threshold;
      const shares = await shareSecrets({ ...ctx(round), siteId: site.siteId, cohort, threshold });
      const maskPublicKey = toB64(maskKeyPair(ctx(round)).publicKey);
      const signature = signSecaggKeys(
        { ...rd(round), siteId: site.siteId, maskPublicKey, boxesSha256: shareBoxesDigest(shares) },
        signWith,
      );
      return { maskPublicKey, shares, signature };
    },
    async share(round: number): Promise<Response> {
      return site.request('POST', routes.secaggShares(fid, round), await this.sharesBody(round));
    },
    /** Seals `masked` with its self-mask commitment and uploads it; `clear` is what the header says in the clear, `base` its base version. */
    async postMasked(
      round: number,
      masked: Uint8Array,
      clear: { numExamples: number; metrics: Record<string, number> },
      base = baseVersionId,
    ): Promise<Response> {
      const commitment = selfMaskCommitment({ ...rd(round), seed: selfMaskSeed(ctx(round)), siteId: site.siteId });
      const envelope = sealMaskedUpdate({
        header: {
          protocol: PROTOCOL_VERSION,
          federationId: fid,
          round,
          siteId: site.siteId,
          baseVersionId: base,
          ...clear,
          sentAt: new Date().toISOString(),
          secagg: { commitment },
        },
        masked,
        identity: site.identity,
        coordinatorBoxPublicKey: site.coordinatorBoxPublicKey,
      });
      return site.request('POST', routes.updates(fid, round), envelope);
    },
    /**
     * Its signature over the round as it sees it (`u3` overrides what it was shown): the whole round (V2) with the
     * complete graph, its closed neighbourhood (V3) with a sparse one — or the statement of `kind` whatever the graph.
     * With a sparse graph also its MACs for its neighbours in U3 over the V3 statement (crypto/secagg-mac); `macs`
     * rewrites them (undefined: none sent, as a site from before them).
     */
    async consistency(
      round: number,
      u3?: string[],
      kind?: 'complete' | 'sparse',
      macs: (honest: Array<{ to: string; mac: string }>) => Array<{ to: string; mac: string }> | undefined = (m) => m,
    ): Promise<Response> {
      const s = await state(round);
      const { graph } = graphOf(round, s);
      const cohort = s.cohort.map((m) => m.siteId);
      const u2 = (s.survivors ?? []).map((m) => m.siteId);
      const seen = u3 ?? s.maskedBy ?? [];
      const key = site.identity.sign.secretKey;
      if ((kind ?? graph.kind) !== 'sparse') {
        const signature = signSecaggConsistency({ ...rd(round), threshold: s.threshold, cohort, u2, u3: seen }, key);
        return site.request('POST', routes.secaggConsistency(fid, round), { signature });
      }
      const statement = secaggNeighbourhoodStatement({
        ...rd(round),
        cohortSha256: secaggCohortDigest(cohort),
        degree: graph.degree,
        threshold: graph.threshold,
        siteId: site.siteId,
        neighbours: graph.neighbours(site.siteId),
        u2: new Set(u2),
        u3: new Set(seen),
      });
      const digest = secaggNeighbourhoodDigest(statement);
      const boxKey = new Map(s.cohort.map((m) => [m.siteId, fromB64(m.boxPublicKey)]));
      const honest = statement.u3
        .filter((id) => id !== site.siteId)
        .map((to) => ({
          to,
          mac: secaggConsistencyMac({
            ...ctx(round),
            from: site.siteId,
            to,
            peerBoxPublicKey: boxKey.get(to)!,
            digest,
          })!,
        }));
      const sent = macs(honest);
      return site.request('POST', routes.secaggConsistency(fid, round), {
        signature: signSecaggNeighbourhood(statement, key),
        ...(sent ? { macs: sent } : {}),
      });
    },
    async reveal(round: number): Promise<Response> {
      const s = await state(round);
      const { near } = graphOf(round, s);
      const u3 = (s.maskedBy ?? []).filter((id) => near.has(id));
      const dropped = (s.survivors ?? [])
        .map((m) => m.siteId)
        .filter((id) => near.has(id) && !(s.maskedBy ?? []).includes(id));
      const boxKey = new Map(s.cohort.map((m) => [m.siteId, fromB64(m.boxPublicKey)]));
      const maskKey = new Map((s.survivors ?? []).map((m) => [m.siteId, fromB64(m.maskPublicKey)]));
      const open = (from: string) =>
        openShares({
          ...ctx(round),
          share: { ...s.sharesForMe.find((x) => x.from === from)!, to: site.siteId },
          from: { siteId: from, boxPublicKey: boxKey.get(from)! },
          fromMaskPublicKey: maskKey.get(from)!,
          siteId: site.siteId,
        });
      return site.request('POST', routes.secaggReveal(fid, round), {
        seedShares: u3.map((of) => ({ of, share: toB64(open(of).seed) })),
        maskKeyShares: dropped.map((of) => ({ of, share: toB64(open(of).maskKey) })),
      });
    },
  };
}
