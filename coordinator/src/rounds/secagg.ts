/**
 * The coordinator's side of secure aggregation (crypto/secagg in shared). It relays signed keys and sealed share
 * boxes it cannot read, fixes U2 (the sites that shared), takes masked updates only from U2, and once the round stops
 * taking updates (U3 = who uploaded) relays the sites' consistency signatures, waits for t reveals, then removes the
 * masks from the sum and hands the strategy the example-weighted mean — never a single site's weights. It checks every
 * signature a site sends against the site's enrolled key, but the sites do not rely on that: each checks everything
 * itself. Everything lives in the store, so a restart resumes it.
 */
import {
  SecaggConsistencySchema,
  SecaggRevealSchema,
  SecaggSharesSchema,
  TwinfedError,
  addRing64,
  assertSecaggCohort,
  decodeSecaggSum,
  fingerprint,
  fromB64,
  fromBytesRing64,
  maxExamplesPerSite,
  publicPart,
  recoverMaskSecretKey,
  recoverSelfMaskSeed,
  secaggPairKey,
  secaggThreshold,
  secaggVectorLength,
  shareBoxesDigest,
  unmaskSum,
  verifySecaggConsistency,
  verifySecaggKeys,
  type Plan,
  type SecaggAck,
  type SecaggConsistency,
  type SecaggReveal,
  type SecaggRound,
  type SecaggSum,
  type SecaggShares,
  type SecaggState,
  type UpdateHeader,
} from '@twinfed/shared';
import type { SiteDirectory } from '../registry/site-directory';
import type { Round, SecaggCohortRecord } from '../store';
import type { MeanDelta } from '../strategies';
import type { EngineCore, Loaded } from './core';
import { ddpMean } from './ddp';
import type { UpdateOpener } from './update-opener';

const SHARE_BYTES = 33;

/** When sharing ends and when unmasking must be done: a third of the round before, half of it after, its deadline. */
export function secaggDeadlines(round: Round): { sharesAt: number; unmaskAt: number } {
  const opened = Date.parse(round.openedAt);
  const deadline = Date.parse(round.deadlineAt);
  const span = Math.max(0, deadline - opened);
  return { sharesAt: opened + span / 3, unmaskAt: deadline + span / 2 };
}

/** The outcome of an unmasking attempt. */
export type Unmasked =
  | { status: 'pending'; unmaskAt: number; revealed: number; threshold: number }
  | { status: 'done'; mean: MeanDelta; contributors: Array<{ siteId: string }> };

/**
 * The round metrics a secure sum yields: Σn (as `examples` and `numExamples`) and the example-weighted training loss
 * of the sites that sent one — aggregates over U3, never one site's (those stay inside the masked vectors).
 */
function securedMetrics(sum: SecaggSum): Record<string, number> {
  return {
    ...(sum.lossExamples > 0 ? { trainLoss: sum.lossSum / sum.lossExamples } : {}),
    numExamples: sum.examples,
    examples: sum.examples,
  };
}

const phaseError = (message: string) => new TwinfedError('SECAGG_PHASE', message);

/** Secure-aggregation rounds of the engine. */
export class SecureAggregation {
  private readonly coordinatorFingerprint: string;

  constructor(
    private readonly core: EngineCore,
    private readonly opener: UpdateOpener,
    private readonly directory: SiteDirectory,
  ) {
    this.coordinatorFingerprint = fingerprint(publicPart(core.deps.identity));
  }

  /** t > 2n/3 of the round's cohort (the sites compute the same from the plan and the cohort, and refuse another). */
  threshold(plan: Plan, round: Round): number {
    return secaggThreshold(round.selectedSiteIds.length, plan.minSites);
  }

  /** What binds the round's secrets and signatures: federation, round, base version, this coordinator's key. */
  context(round: Round): SecaggRound {
    return {
      federationId: round.federationId,
      round: round.round,
      baseVersionId: round.baseVersionId,
      coordinatorFingerprint: this.coordinatorFingerprint,
    };
  }

  private async signKeyOf(siteId: string): Promise<Uint8Array> {
    const site = await this.core.store.getSite(siteId);
    if (!site) throw new TwinfedError('UNKNOWN_SITE');
    return fromB64(site.signPublicKey);
  }

  /** U2 once fixed; fixes it now when every selected site shared, or sharing time is over and at least t did. */
  async cohort(loaded: Loaded, round: Round): Promise<SecaggCohortRecord | null> {
    const { store } = this.core;
    const fixed = await store.getSecaggCohort(round.federationId, round.round);
    if (fixed || (round.state !== 'open' && round.state !== 'collecting')) return fixed;
    if (!this.core.drives(round.federationId)) return null; // the driving replica fixes it (on its next poll at the latest)
    const shared = (await store.listSecaggMessages(round.federationId, round.round, 'shares')).map((m) => m.siteId);
    const all = shared.length === round.selectedSiteIds.length;
    const late =
      this.core.now() >= secaggDeadlines(round).sharesAt && shared.length >= this.threshold(loaded.plan, round);
    if (!all && !late) return null;
    const cohort = await store.fixSecaggCohort(
      {
        federationId: round.federationId,
        round: round.round,
        siteIds: [...shared].sort(),
        fixedAt: this.core.iso(),
      },
      this.core.fence(round.federationId),
    );
    this.core.metrics.secaggPhase('share_relay', (Date.parse(cohort.fixedAt) - Date.parse(round.openedAt)) / 1000);
    this.core.logger.info(
      {
        federationId: round.federationId,
        round: round.round,
        survivors: cohort.siteIds.length,
        selected: round.selectedSiteIds.length,
      },
      'secure aggregation: key shares closed',
    );
    return cohort;
  }

  /** How many stored updates close the round early: all of U2 (or, with closeAt quorum, max(t, minSites)). */
  async closeTarget(loaded: Loaded, round: Round): Promise<number> {
    const cohort = await this.cohort(loaded, round);
    if (!cohort) return 0;
    const all = cohort.siteIds.length;
    return loaded.plan.closeAt === 'quorum'
      ? Math.min(all, Math.max(this.threshold(loaded.plan, round), loaded.plan.minSites))
      : all;
  }

  /** What a site sees of the round's secure aggregation. */
  async state(loaded: Loaded, round: Round, siteId: string): Promise<SecaggState> {
    const { store } = this.core;
    if (!round.selectedSiteIds.includes(siteId)) throw new TwinfedError('SITE_NOT_SELECTED');
    const cohort = await this.cohort(loaded, round);
    const shares = await store.listSecaggMessages(round.federationId, round.round, 'shares');
    const reveals = await store.listSecaggMessages(round.federationId, round.round, 'reveal');
    const sites = await Promise.all(round.selectedSiteIds.map((id) => store.getSite(id)));
    const closed = round.state === 'published' || round.state === 'failed';
    const unmasking = round.state === 'aggregating';
    const survivors = cohort ? shares.filter((m) => cohort.siteIds.includes(m.siteId)) : [];
    const parsed = survivors.map((m) => ({ siteId: m.siteId, body: JSON.parse(m.payload) as SecaggShares }));
    const { sharesAt, unmaskAt } = secaggDeadlines(round);
    const { u3 } = await this.sets(round);
    const consistency =
      unmasking || closed
        ? (await store.listSecaggMessages(round.federationId, round.round, 'consistency')).filter((m) =>
            u3.includes(m.siteId),
          )
        : [];
    return {
      federationId: round.federationId,
      round: round.round,
      phase: closed ? 'closed' : unmasking ? 'unmasking' : cohort ? 'masking' : 'sharing',
      threshold: this.threshold(loaded.plan, round),
      // Every selected site (a revoked one cannot take part, but the share boxes still cover exactly the round's cohort).
      cohort: sites.flatMap((s) => (s ? [this.directory.entry(s)] : [])),
      shared: shares.some((m) => m.siteId === siteId),
      revealed: reveals.some((m) => m.siteId === siteId),
      survivors: cohort
        ? parsed.map((p) => ({
            siteId: p.siteId,
            maskPublicKey: p.body.maskPublicKey,
            boxesSha256: shareBoxesDigest(p.body.shares),
            signature: p.body.signature,
          }))
        : null,
      sharesForMe: parsed.flatMap((p) =>
        p.body.shares
          .filter((s) => s.to === siteId)
          .map((s) => ({ from: p.siteId, nonce: s.nonce, ciphertext: s.ciphertext })),
      ),
      maskedBy: unmasking || closed ? u3 : null,
      consistency: consistency.map((m) => ({
        siteId: m.siteId,
        signature: (JSON.parse(m.payload) as SecaggConsistency).signature,
      })),
      sharesDeadlineAt: new Date(sharesAt).toISOString(),
      unmaskDeadlineAt: new Date(unmaskAt).toISOString(),
    };
  }

  /**
   * Step 1: a selected site's mask public key and share boxes, one per cohort member, signed with its enrolled key
   * (`SECAGG_UNTRUSTED_KEY` otherwise). Idempotent per site.
   */
  async submitShares(loaded: Loaded, round: Round, siteId: string, input: unknown): Promise<SecaggAck> {
    const body = SecaggSharesSchema.parse(input);
    if (round.state !== 'open' && round.state !== 'collecting') throw new TwinfedError('ROUND_CLOSED');
    if (!round.selectedSiteIds.includes(siteId)) throw new TwinfedError('SITE_NOT_SELECTED');
    assertSecaggCohort(round.selectedSiteIds.length);
    const to = body.shares.map((s) => s.to).sort();
    const selected = [...round.selectedSiteIds].sort();
    if (to.length !== selected.length || to.some((id, i) => id !== selected[i])) {
      throw new TwinfedError(
        'VALIDATION_FAILED',
        'Send exactly one share box to every site of the round, yourself included.',
      );
    }
    if (fromB64(body.maskPublicKey, 'VALIDATION_FAILED').byteLength !== 32)
      throw new TwinfedError('VALIDATION_FAILED', 'The mask public key must be 32 bytes.');
    const statement = {
      ...this.context(round),
      siteId,
      maskPublicKey: body.maskPublicKey,
      boxesSha256: shareBoxesDigest(body.shares),
    };
    if (!verifySecaggKeys(statement, body.signature, await this.signKeyOf(siteId))) {
      throw new TwinfedError(
        'SECAGG_UNTRUSTED_KEY',
        "The signature over the mask public key and share boxes does not verify with this site's enrolled key for this round.",
      );
    }
    const fixed = await this.core.store.getSecaggCohort(round.federationId, round.round);
    const put = async () =>
      this.core.store.putSecaggMessage({
        federationId: round.federationId,
        round: round.round,
        siteId,
        kind: 'shares',
        payload: JSON.stringify(body),
        createdAt: this.core.iso(),
      });
    if (fixed && !fixed.siteIds.includes(siteId)) throw phaseError('The key shares of this round are closed.');
    // Every share set of a site splits the same derived secrets, so a second, different one (a restarted site) is as good as the first, which stays.
    const status = fixed ? 'duplicate' : (await put()).status === 'accepted' ? 'accepted' : 'duplicate';
    await this.cohort(loaded, round);
    return { status };
  }

  /** Checks that a masked update may be taken now from `siteId` (U2 fixed, the site in it). */
  async acceptsMasked(loaded: Loaded, round: Round, siteId: string): Promise<void> {
    const cohort = await this.cohort(loaded, round);
    if (!cohort)
      throw phaseError('The key shares of this round are still being collected; upload once they are closed.');
    if (!cohort.siteIds.includes(siteId))
      throw new TwinfedError('SITE_NOT_SELECTED', 'The site sent no key shares in time for this round.');
  }

  /**
   * Step 3: a U3 member's signature over the round as it saw it — (context, S, t, U2, U3) — checked against the round
   * as stored here (`SECAGG_INCONSISTENT` when the site saw another one). Idempotent (Ed25519 is deterministic).
   */
  async submitConsistency(loaded: Loaded, round: Round, siteId: string, input: unknown): Promise<SecaggAck> {
    const body = SecaggConsistencySchema.parse(input);
    if (round.state !== 'aggregating')
      throw phaseError('Consistency signatures are taken only once the round stopped taking updates.');
    const { u2, u3 } = await this.sets(round);
    if (!u3.includes(siteId))
      throw new TwinfedError('SITE_NOT_SELECTED', 'Only sites whose masked update was taken sign the round.');
    const statement = {
      ...this.context(round),
      threshold: this.threshold(loaded.plan, round),
      cohort: round.selectedSiteIds,
      u2,
      u3,
    };
    if (!verifySecaggConsistency(statement, body.signature, await this.signKeyOf(siteId))) {
      throw new TwinfedError(
        'SECAGG_INCONSISTENT',
        `The signature is not over this round as the coordinator holds it (t = ${statement.threshold}, U3 = ${u3.join(', ')}).`,
      );
    }
    const put = await this.core.store.putSecaggMessage({
      federationId: round.federationId,
      round: round.round,
      siteId,
      kind: 'consistency',
      payload: JSON.stringify(body),
      createdAt: this.core.iso(),
    });
    if (put.status === 'conflict')
      throw new TwinfedError('UPDATE_CONFLICT', 'A different consistency signature from this site was already taken.');
    return { status: put.status === 'accepted' ? 'accepted' : 'duplicate' };
  }

  /** Step 4: a U3 member's shares of the survivors' seeds and the dropped sites' mask keys. */
  async submitReveal(loaded: Loaded, round: Round, siteId: string, input: unknown): Promise<SecaggAck> {
    const body = SecaggRevealSchema.parse(input);
    if (round.state !== 'aggregating')
      throw phaseError('Reveals are taken only once the round stopped taking updates.');
    const { u3, dropped } = await this.sets(round);
    if (!u3.includes(siteId))
      throw new TwinfedError('SITE_NOT_SELECTED', 'Only sites whose masked update was taken reveal.');
    const same = (a: readonly string[], b: readonly string[]) =>
      a.length === b.length && new Set(a).size === a.length && a.every((x) => b.includes(x));
    if (
      !same(
        body.seedShares.map((s) => s.of),
        u3,
      ) ||
      !same(
        body.maskKeyShares.map((s) => s.of),
        dropped,
      )
    ) {
      throw new TwinfedError(
        'VALIDATION_FAILED',
        `Reveal one seed share per site of U3 (${u3.join(', ')}) and one mask-key share per dropped site (${dropped.join(', ') || 'none'}).`,
      );
    }
    for (const s of [...body.seedShares, ...body.maskKeyShares]) {
      if (fromB64(s.share, 'VALIDATION_FAILED').byteLength !== SHARE_BYTES)
        throw new TwinfedError('VALIDATION_FAILED', `A share is ${SHARE_BYTES} bytes.`);
    }
    const put = await this.core.store.putSecaggMessage({
      federationId: round.federationId,
      round: round.round,
      siteId,
      kind: 'reveal',
      payload: JSON.stringify(body),
      createdAt: this.core.iso(),
    });
    if (put.status === 'conflict')
      throw new TwinfedError('UPDATE_CONFLICT', 'A different reveal from this site was already taken.');
    return { status: put.status === 'accepted' ? 'accepted' : 'duplicate' };
  }

  /**
   * Tries to unmask the round's sum: pending until t sites of U3 revealed; then recombines the seeds (checked against
   * the signed commitments) and the dropped sites' mask keys (checked against their public keys) and returns the
   * example-weighted mean delta. Throws with the reason when it cannot be done.
   */
  async unmask(loaded: Loaded, round: Round, global: Float32Array): Promise<Unmasked> {
    const { store } = this.core;
    const { u3, dropped } = await this.sets(round);
    const t = this.threshold(loaded.plan, round);
    if (u3.length < t)
      throw new TwinfedError('VALIDATION_FAILED', `${u3.length} masked updates, fewer than the threshold t = ${t}`);
    const reveals = (await store.listSecaggMessages(round.federationId, round.round, 'reveal')).filter((m) =>
      u3.includes(m.siteId),
    );
    const { unmaskAt } = secaggDeadlines(round);
    if (reveals.length < t) return { status: 'pending', unmaskAt, revealed: reveals.length, threshold: t };

    const used = reveals.slice(0, t).map((m) => JSON.parse(m.payload) as SecaggReveal);
    const sharesOf = (v: string, kind: 'seedShares' | 'maskKeyShares') =>
      used.map((r) => fromB64(r[kind].find((s) => s.of === v)!.share));
    const headers = new Map<string, UpdateHeader>();
    const elements = secaggVectorLength(global.length, { distributedDp: loaded.plan.privacy.dp !== undefined });
    const sum = new Uint32Array(elements * 2);
    for (const siteId of u3) {
      const { header, masked } = await this.opener.openStoredMasked({
        federationId: round.federationId,
        round: round.round,
        siteId,
        elements,
      });
      headers.set(siteId, header);
      addRing64(sum, fromBytesRing64(masked, elements));
    }
    const ctx = this.context(round);
    const selfSeeds = await Promise.all(
      u3.map((v) =>
        recoverSelfMaskSeed({
          ...ctx,
          shares: sharesOf(v, 'seedShares'),
          commitment: headers.get(v)!.secagg!.commitment,
          siteId: v,
        }),
      ),
    );
    const shares = new Map(
      (await store.listSecaggMessages(round.federationId, round.round, 'shares')).map((m) => [
        m.siteId,
        JSON.parse(m.payload) as SecaggShares,
      ]),
    );
    const maskPublic = (id: string) => ({ siteId: id, boxPublicKey: fromB64(shares.get(id)!.maskPublicKey) });
    const droppedPairs: Array<{ survivor: string; dropped: string; key: Uint8Array }> = [];
    for (const v of dropped) {
      const maskSecretKey = await recoverMaskSecretKey({
        shares: sharesOf(v, 'maskKeyShares'),
        publicKey: maskPublic(v).boxPublicKey,
        siteId: v,
      });
      for (const u of u3)
        droppedPairs.push({
          survivor: u,
          dropped: v,
          key: secaggPairKey({ ...ctx, maskSecretKey, siteId: v, peer: maskPublic(u) }),
        });
    }
    const unmasked = unmaskSum({ sum, selfSeeds, droppedPairs });
    const contributors = u3.map((siteId) => ({ siteId }));
    // Distributed DP: the sum is of clipped, noised integer deltas (no n, no loss); only the noisy mean leaves here.
    if (loaded.plan.privacy.dp)
      return {
        status: 'done',
        mean: ddpMean({
          plan: loaded.plan,
          sum: unmasked,
          selectedSites: round.selectedSiteIds.length,
          survivors: u3,
          threshold: t,
        }),
        contributors,
      };
    const total = decodeSecaggSum(unmasked, {
      weights: global.length,
      sites: u3.length,
      maxExamples: maxExamplesPerSite(loaded.plan.training),
    });
    const delta = Float64Array.from(total.weighted, (x, i) => x / total.examples - global[i]!);
    const metrics = {
      ...securedMetrics(total),
      sites: u3.length,
      secureAggregation: 1,
      secaggDropped: round.selectedSiteIds.length - u3.length,
    };
    return { status: 'done', mean: { delta, metrics, contributors: u3 }, contributors };
  }

  private async sets(round: Round): Promise<{ u2: string[]; u3: string[]; dropped: string[] }> {
    const cohort = await this.core.store.getSecaggCohort(round.federationId, round.round);
    const u2 = cohort?.siteIds ?? [];
    const u3 = (await this.core.store.listUpdateSummaries(round.federationId, round.round))
      .map((u) => u.siteId)
      .filter((id) => u2.includes(id))
      .sort();
    return { u2, u3, dropped: u2.filter((id) => !u3.includes(id)) };
  }
}
