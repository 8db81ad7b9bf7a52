import {
  TwinfedError,
  deserializeWeights,
  openCrossSiteModel,
  sealCrossSiteModel,
  serializeWeights,
  type CrossSiteAnswer,
  type CrossSiteResult,
  type CrossSiteSession,
  type WeightSet,
} from '@twinfed/shared';
import type { Logger } from '@twinfed/shared';
import type { Enrollment } from '../identity/load';
import type { SiteApi } from '../transport/coordinator-client';
import type { FederationSession } from './federation-session';
import type { Journal } from './journal';
import { trustedPeers } from './peer-directory';
import type { RunnerProgress } from './progress';
import type { VerifiedModel } from './verified-model';

/** What the cross-site step needs from the runner. */
interface CrossSiteStepOptions {
  api: SiteApi;
  federationId: string;
  enrollment: Enrollment;
  journal: Pick<Journal, 'pinPeers'>;
  session: FederationSession;
  /** Whether this site's policy lets it take part (`crossSiteEvaluation.allowed`, default true). */
  allowed: () => boolean;
  /** This site's k: with fewer test rows it withholds its column. */
  minCell: number;
  verifiedModel: (versionId: string) => Promise<VerifiedModel>;
  logger: Logger;
  signal?: AbortSignal;
  emit: (e: RunnerProgress) => void;
}

/**
 * This site's part in the cross-site evaluation of a completed federation (protocol in shared schemas/cross-site), one
 * call per wake-up until it returns true (nothing more to do). In the `models` phase it answers once: its policy's
 * refusal, or its local-only model sealed to every candidate's verified, pinned box key (itself included, so a
 * restarted site finds its own model again and keeps nothing on disk). In the `evaluating` phase it opens the boxes
 * addressed to it, evaluates the verified global version and each local model on its own test rows, sends the metrics
 * only (or withholds its column below its k), and forgets the models: they exist only in this call's memory, and the
 * coordinator deletes its ciphertext once the result is stored.
 */
export class CrossSiteStep {
  /** The answer sent or being sent: a retry sends the same (the local model is trained once per process). */
  private answer: CrossSiteAnswer | undefined;

  constructor(private readonly o: CrossSiteStepOptions) {}

  private get me(): string {
    return this.o.enrollment.state.siteId;
  }

  async run(): Promise<boolean> {
    const { api, federationId, signal } = this.o;
    if (!api.crossSiteSession || !api.crossSiteAnswer || !api.crossSiteResult)
      throw new TwinfedError('INTERNAL', 'This coordinator client cannot take part in a cross-site evaluation.');
    const s = await api.crossSiteSession(federationId, signal ? { signal } : {});
    if (s.state === 'complete') return true;
    if (s.state === 'models') {
      if (s.answered) return false;
      if (!s.candidates.some((c) => c.siteId === this.me)) return this.done('not-asked');
      const body = await this.answerFor(s);
      await api.crossSiteAnswer({ federationId, body, ...(signal ? { signal } : {}) });
      if ('boxes' in body) this.o.emit({ type: 'cross-site', step: 'sealed', count: body.boxes.length });
      else this.o.emit({ type: 'cross-site', step: 'refused' });
      return false;
    }
    if (s.reported) return true;
    if (!(s.participants ?? []).includes(this.me)) return this.done('not-asked');
    const result = await this.evaluate(s);
    await api.crossSiteResult({ federationId, body: result, ...(signal ? { signal } : {}) });
    if ('withheld' in result) this.o.emit({ type: 'cross-site', step: 'withheld' });
    else
      this.o.emit({
        type: 'cross-site',
        step: 'reported',
        count: 1 + Object.keys(result.local).length,
        n: result.n,
      });
    return true;
  }

  private done(step: 'not-asked'): true {
    this.o.emit({ type: 'cross-site', step });
    return true;
  }

  private async answerFor(s: CrossSiteSession): Promise<CrossSiteAnswer> {
    if (this.answer) return this.answer;
    if (!this.o.allowed()) return (this.answer = { refused: true });
    const peers = trustedPeers({ members: s.candidates, enrollment: this.o.enrollment, journal: this.o.journal });
    const local = await this.o.session.trainLocalOnly();
    const bytes = serializeWeights(local);
    try {
      this.answer = {
        boxes: [...peers.values()].map((p) =>
          sealCrossSiteModel({
            federationId: this.o.federationId,
            sender: this.me,
            recipient: p.siteId,
            weights: bytes,
            senderBoxSecretKey: this.o.enrollment.identity.box.secretKey,
            recipientBoxPublicKey: p.boxPublicKey,
          }),
        ),
      };
      return this.answer;
    } finally {
      bytes.fill(0);
      local.data.fill(0);
    }
  }

  /** The metric of one model on this site's test rows (null when undefined there). */
  private async metric(weights: WeightSet, metric: CrossSiteSession['metric']): Promise<number | null> {
    const report = await this.o.session.evaluate(weights);
    const v = report.metrics[metric];
    return v === undefined || !Number.isFinite(v) ? null : v;
  }

  private async evaluate(s: CrossSiteSession): Promise<CrossSiteResult> {
    const test = this.o.session.dataset.test;
    if (test.n < this.o.minCell) return { withheld: true };
    // The senders' keys as the coordinator vouches for them, checked against the keys pinned before.
    const peers = trustedPeers({ members: s.candidates, enrollment: this.o.enrollment, journal: this.o.journal });
    const global = await this.o.verifiedModel(s.globalVersionId);
    const local: Record<string, number | null> = {};
    for (const sender of s.participants ?? []) {
      local[sender] = null;
      const box = s.boxes.find((b) => b.sender === sender);
      const peer = peers.get(sender);
      if (!box || !peer) {
        this.o.logger.warn({ sender }, 'cross-site evaluation: no box from a participant');
        continue;
      }
      let bytes: Uint8Array;
      try {
        bytes = openCrossSiteModel({
          federationId: this.o.federationId,
          sender,
          recipient: this.me,
          nonce: box.nonce,
          ciphertext: box.ciphertext,
          senderBoxPublicKey: peer.boxPublicKey,
          recipientBoxSecretKey: this.o.enrollment.identity.box.secretKey,
        });
      } catch {
        this.o.logger.warn({ sender }, 'cross-site evaluation: a sealed model did not open; reported as null');
        continue;
      }
      try {
        const weights = deserializeWeights(bytes, { expectedLayout: this.o.session.layout });
        local[sender] = await this.metric(weights, s.metric);
        weights.data.fill(0);
      } catch (e) {
        this.o.logger.warn(
          { sender, err: e instanceof Error ? e.message : String(e) },
          'cross-site evaluation: a local model could not be evaluated; reported as null',
        );
      } finally {
        bytes.fill(0);
      }
    }
    return { n: test.n, global: await this.metric(global.weights, s.metric), local };
  }
}
