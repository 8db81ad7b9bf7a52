import {
  TwinfedError,
  fromB64,
  openMaskedUpdate,
  openUpdate,
  parseUpdate,
  updateDigest,
  verifyUpdateSignature,
  type Identity,
  type Layout,
  type UpdateHeader,
  type WeightSet,
} from '@twinfed/shared';
import { CoordinatorMetrics } from '../metrics/registry';
import type { Site, Store } from '../store';
import { Semaphore } from '../util/semaphore';
import { checkUpdateHeader } from './upload-check';

/**
 * An upload as received: shared's `ParsedUpdate` (framing, schema and protocol checked) whose header matches the URL and
 * the authenticated site, with the digest of its bytes. Not yet verified or decrypted.
 */
export interface ReceivedUpdate {
  header: UpdateHeader;
  ciphertext: Uint8Array;
  digest: string;
}

/** A verified, decrypted update. The weights live only in memory, never in the store or a log. */
export interface OpenedUpdate extends ReceivedUpdate {
  weights: WeightSet;
}

/**
 * Parses, verifies and decrypts update envelopes, with at most `maxConcurrent` decryptions at once.
 * The coordinator's box secret key never leaves this object's `identity`.
 */
export class UpdateOpener {
  private readonly slots: Semaphore;

  constructor(
    private readonly deps: {
      store: Store;
      identity: Identity;
      maxConcurrent: number;
      maxUpdateBytes: number;
      metrics: CoordinatorMetrics;
    },
  ) {
    this.slots = new Semaphore(deps.maxConcurrent);
  }

  /** Updates waiting for a verification slot. */
  get queued(): number {
    return this.slots.queued;
  }

  /** Framing, size, schema, protocol and header-vs-URL checks (each once); no cryptography. */
  parse(opts: { federationId: string; round: number; siteId: string; bytes: Uint8Array }): ReceivedUpdate {
    const { header, ciphertext } = parseUpdate(opts.bytes, { maxBytes: this.deps.maxUpdateBytes });
    checkUpdateHeader({ header, federationId: opts.federationId, round: opts.round, siteId: opts.siteId });
    return { header, ciphertext, digest: updateDigest(opts.bytes) };
  }

  /**
   * Verifies the site's signature and decrypts against the expected layout (rejects NaN/Inf, wrong shapes). `site` is
   * the sender's record when the caller has it (the authenticated principal's); otherwise it is read from the store.
   */
  async decrypt(parsed: ReceivedUpdate, layout: Layout, site?: Site): Promise<OpenedUpdate> {
    return this.slots.run(async () => {
      const sender = await this.verified(parsed, site);
      const weights = CoordinatorMetrics.timed(this.deps.metrics.openSeconds, () =>
        openUpdate({
          header: parsed.header,
          ciphertext: parsed.ciphertext,
          siteBoxPublicKey: fromB64(sender.boxPublicKey),
          coordinatorBoxSecretKey: this.deps.identity.box.secretKey,
          expectedLayout: layout,
          maxBytes: this.deps.maxUpdateBytes,
        }),
      );
      return { ...parsed, weights };
    });
  }

  /** Verifies the site's signature and decrypts a masked (secure-aggregation) update of `elements` ring elements. */
  async decryptMasked(parsed: ReceivedUpdate, elements: number, site?: Site): Promise<Uint8Array> {
    return this.slots.run(async () => {
      const sender = await this.verified(parsed, site);
      return CoordinatorMetrics.timed(this.deps.metrics.openSeconds, () =>
        openMaskedUpdate({
          header: parsed.header,
          ciphertext: parsed.ciphertext,
          siteBoxPublicKey: fromB64(sender.boxPublicKey),
          coordinatorBoxSecretKey: this.deps.identity.box.secretKey,
          expectedElements: elements,
        }),
      );
    });
  }

  /** Re-opens an envelope already in the store (to rebuild an aggregate after a restart). */
  async openStored(opts: {
    federationId: string;
    round: number;
    siteId: string;
    layout: Layout;
  }): Promise<OpenedUpdate> {
    return this.decrypt(await this.parseStored(opts), opts.layout);
  }

  /** Re-opens a stored masked update: its signed header (with the commitment) and its ring bytes. */
  async openStoredMasked(opts: {
    federationId: string;
    round: number;
    siteId: string;
    elements: number;
  }): Promise<{ header: UpdateHeader; masked: Uint8Array }> {
    const parsed = await this.parseStored(opts);
    return { header: parsed.header, masked: await this.decryptMasked(parsed, opts.elements) };
  }

  private async parseStored(opts: { federationId: string; round: number; siteId: string }): Promise<ReceivedUpdate> {
    const stored = await this.deps.store.getUpdate(opts.federationId, opts.round, opts.siteId);
    if (!stored) throw new TwinfedError('INTERNAL', 'A stored update disappeared.');
    return this.parse({ ...opts, bytes: stored.envelope });
  }

  /** The enrolled site of an update whose signature verifies under its key (`known`: its record, already read). */
  private async verified(parsed: ReceivedUpdate, known?: Site): Promise<Site> {
    if (known && known.id !== parsed.header.siteId)
      throw new TwinfedError('INTERNAL', "The update was opened with another site's keys.");
    const site = known ?? (await this.deps.store.getSite(parsed.header.siteId));
    if (!site) throw new TwinfedError('UNKNOWN_SITE');
    CoordinatorMetrics.timed(this.deps.metrics.verifySeconds, () =>
      verifyUpdateSignature({
        header: parsed.header,
        ciphertext: parsed.ciphertext,
        siteSignPublicKey: fromB64(site.signPublicKey),
      }),
    );
    return site;
  }
}
