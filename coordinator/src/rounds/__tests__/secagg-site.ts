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
  toB64,
  type SecaggState,
} from '@twinfed/shared';
import { json, type TestSite } from '../../__tests__/harness';

/**
 * A site following the secure-aggregation protocol by hand over real HTTP (the site client's SecureRound does the
 * same in production, and checks more): key shares, the masked upload's envelope, the consistency signature and
 * the reveal. What goes in the masked vector is the caller's (see `postMasked`).
 */
export function secaggSite(site: TestSite, fid: string, baseVersionId: string) {
  const coordinatorFingerprint = fingerprint({
    signPublicKey: site.coordinatorSignPublicKey,
    boxPublicKey: site.coordinatorBoxPublicKey,
  });
  const rd = (round: number) => ({ federationId: fid, round, baseVersionId, coordinatorFingerprint });
  const ctx = (round: number) => ({ ...rd(round), boxSecretKey: site.identity.box.secretKey });
  const state = (round: number) => json<SecaggState>(site.request('GET', routes.secagg(fid, round)));
  return {
    site,
    state,
    rd,
    ctx,
    /** The survivors (U2) of the round as the masking functions take them. */
    async survivors(round: number): Promise<Array<{ siteId: string; boxPublicKey: Uint8Array }>> {
      const s = await state(round);
      return (s.survivors ?? []).map((m) => ({ siteId: m.siteId, boxPublicKey: fromB64(m.maskPublicKey) }));
    },
    /** The body of its key-share message (signed with `signWith`, by default its own key). */
    async sharesBody(round: number, signWith = site.identity.sign.secretKey) {
      const s = await state(round);
      const cohort = s.cohort.map((m) => ({ siteId: m.siteId, boxPublicKey: fromB64(m.boxPublicKey) }));
      const shares = await shareSecrets({ ...ctx(round), siteId: site.siteId, cohort, threshold: s.threshold });
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
    /** Its signature over the round as it sees it (`u3` overrides what it was shown). */
    async consistency(round: number, u3?: string[]): Promise<Response> {
      const s = await state(round);
      const statement = {
        ...rd(round),
        threshold: s.threshold,
        cohort: s.cohort.map((m) => m.siteId),
        u2: (s.survivors ?? []).map((m) => m.siteId),
        u3: u3 ?? s.maskedBy ?? [],
      };
      return site.request('POST', routes.secaggConsistency(fid, round), {
        signature: signSecaggConsistency(statement, site.identity.sign.secretKey),
      });
    },
    async reveal(round: number): Promise<Response> {
      const s = await state(round);
      const u3 = s.maskedBy ?? [];
      const dropped = (s.survivors ?? []).map((m) => m.siteId).filter((id) => !u3.includes(id));
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
