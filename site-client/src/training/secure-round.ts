import {
  TwinfedError,
  fromB64,
  maskKeyPair,
  maskUpdate,
  openShares,
  ringToBytes64,
  sealMaskedUpdate,
  selfMaskCommitment,
  selfMaskSeed,
  shareSecrets,
  toB64,
  type SecaggState,
  type UpdateHeaderInput,
  type WeightSet,
} from '@twinfed/shared';
import type { Enrollment } from '../identity/load';
import type { Logger } from '../logger';
import type { SiteApi } from '../transport/coordinator-client';

/** Options of {@link SecureRound}. */
export interface SecureRoundOptions {
  api: SiteApi;
  enrollment: Enrollment;
  federationId: string;
  logger: Logger;
  signal: AbortSignal;
  /** How often to ask the coordinator whether the next step may start (default 500 ms). */
  pollMs?: number;
}

/**
 * A site's side of secure aggregation (crypto/secagg in shared): shares its round secrets with the cohort, masks its
 * update with the survivors' keys, and after the round stops taking updates reveals what unmasks the sum — never
 * anything that would unmask its own or another site's update alone. Every message is derived from the site key and
 * the round, so a restarted site repeats itself exactly (the coordinator answers `duplicate`).
 */
export class SecureRound {
  constructor(private readonly o: SecureRoundOptions) {}

  private api() {
    const { api } = this.o;
    if (!api.secaggState || !api.secaggShares || !api.secaggReveal) throw new TwinfedError('CONFIG_INVALID', 'This coordinator client cannot do secure aggregation.');
    return { state: api.secaggState.bind(api), shares: api.secaggShares.bind(api), reveal: api.secaggReveal.bind(api) };
  }

  private ctx(round: number) {
    return { boxSecretKey: this.o.enrollment.identity.box.secretKey, federationId: this.o.federationId, round };
  }

  private get siteId(): string {
    return this.o.enrollment.state.siteId;
  }

  private state(round: number): Promise<SecaggState> {
    return this.api().state({ federationId: this.o.federationId, round, signal: this.o.signal });
  }

  /**
   * Step 1: sends this site's mask public key and a share box for every cohort member (once; idempotent). Throws
   * `SITE_NOT_SELECTED` when the key shares closed before this site sent its own: it cannot take part, so it need
   * not train.
   */
  async share(round: number): Promise<void> {
    const s = await this.state(round);
    if (s.shared) return;
    if (s.phase !== 'sharing') throw new TwinfedError('SITE_NOT_SELECTED', 'The key shares of this round closed before this site sent its own.');
    const cohort = s.cohort.map((m) => ({ siteId: m.siteId, boxPublicKey: fromB64(m.boxPublicKey) }));
    const shares = await shareSecrets({ ...this.ctx(round), siteId: this.siteId, cohort, threshold: s.threshold });
    const ack = await this.api().shares({ federationId: this.o.federationId, round, body: { maskPublicKey: toB64(maskKeyPair(this.ctx(round)).publicKey), shares }, signal: this.o.signal });
    this.o.logger.info({ round, status: ack.status, cohort: cohort.length, threshold: s.threshold }, 'secure aggregation: key shares sent');
  }

  /**
   * Step 2: waits until the key shares closed, then returns this site's masked update envelope. Throws `ROUND_CLOSED`
   * when the round ended first and `SITE_NOT_SELECTED` when this site's shares did not make it into the round.
   */
  async sealMasked(opts: { header: UpdateHeaderInput; weights: WeightSet }): Promise<Uint8Array> {
    const { round, numExamples } = opts.header;
    const s = await this.waitFor(round, (x) => x.phase !== 'sharing');
    if (s.phase !== 'masking') throw new TwinfedError('ROUND_CLOSED', 'The round stopped taking updates before its key shares closed.');
    if (!s.survivors?.some((m) => m.siteId === this.siteId)) throw new TwinfedError('SITE_NOT_SELECTED', 'This site\'s key shares were not taken for the round.');
    const survivors = s.survivors.map((m) => ({ siteId: m.siteId, boxPublicKey: fromB64(m.maskPublicKey) }));
    const values = Float64Array.from(opts.weights.data, (w) => w * numExamples);
    const masked = maskUpdate({ ...this.ctx(round), values, siteId: this.siteId, survivors });
    const commitment = selfMaskCommitment({ seed: selfMaskSeed(this.ctx(round)), siteId: this.siteId, federationId: this.o.federationId, round });
    return sealMaskedUpdate({
      header: { ...opts.header, secagg: { commitment } },
      masked: ringToBytes64(masked),
      identity: this.o.enrollment.identity,
      coordinatorBoxPublicKey: this.o.enrollment.coordinator.boxPublicKey,
    });
  }

  /**
   * Step 3: waits until the round stopped taking updates, then reveals its share of each survivor's seed and of each
   * dropped site's mask key — only when this site is a survivor, at least t survived, and it has not revealed yet.
   */
  async reveal(round: number): Promise<void> {
    const s = await this.waitFor(round, (x) => x.phase === 'unmasking' || x.phase === 'closed');
    const u3 = s.maskedBy ?? [];
    if (s.phase !== 'unmasking' || s.revealed || !u3.includes(this.siteId)) return;
    if (u3.length < s.threshold) return; // too few survivors: revealing could only help unmask someone
    const survivors = (s.survivors ?? []).map((m) => m.siteId);
    if (!u3.every((id) => survivors.includes(id))) throw new TwinfedError('VALIDATION_FAILED', 'The coordinator lists a masked update from outside the round\'s survivors.');
    const dropped = survivors.filter((id) => !u3.includes(id));
    const boxKeys = new Map(s.cohort.map((m) => [m.siteId, fromB64(m.boxPublicKey)]));
    const open = (from: string) => {
      const share = s.sharesForMe.find((x) => x.from === from);
      const key = boxKeys.get(from);
      if (!share || !key) throw new TwinfedError('VALIDATION_FAILED', `No key share from ${from} for this site.`);
      return openShares({ ...this.ctx(round), share: { ...share, to: this.siteId }, from: { siteId: from, boxPublicKey: key }, siteId: this.siteId });
    };
    const body = {
      seedShares: u3.map((of) => ({ of, share: toB64(open(of).seed) })),
      maskKeyShares: dropped.map((of) => ({ of, share: toB64(open(of).maskKey) })),
    };
    const ack = await this.api().reveal({ federationId: this.o.federationId, round, body, signal: this.o.signal });
    this.o.logger.info({ round, status: ack.status, survivors: u3.length, dropped: dropped.length }, 'secure aggregation: reveal sent');
  }

  /** Polls the round's state until `done` holds or the round closed (bounded by the round's own deadlines). */
  private async waitFor(round: number, done: (s: SecaggState) => boolean): Promise<SecaggState> {
    for (;;) {
      const s = await this.state(round);
      if (done(s) || s.phase === 'closed') return s;
      if (this.o.signal.aborted) throw new TwinfedError('ROUND_CLOSED', 'Stopped while waiting for the round.');
      await new Promise((r) => setTimeout(r, this.o.pollMs ?? 500));
    }
  }
}
