import {
  EvaluationReportSchema,
  PROTOCOL_VERSION,
  TwinfedError,
  clientBehaviour,
  hasBehaviour,
  maxEvaluationExamples,
  maxExamplesPerSite,
  planDdpParameters,
  planSecaggGraph,
  refusesRequest,
  sealUpdate,
  type CodeWithBehaviour,
  type CurrentRound,
  type EvaluationReport,
  type Logger,
  type UpdateHeaderInput,
  type UploadAck,
} from '@twinfed/shared';
import type { Enrollment } from '../identity/load';
import type { SiteApi } from '../transport/coordinator-client';
import type { SiteStatus } from '../transport/event-stream';
import type { FederationSession } from './federation-session';
import type { Journal } from './journal';
import type { SiteAuditLog } from '../audit/site-audit';
import type { RunnerProgress, SkipReason } from './progress';
import type { PushSource } from './runner-options';
import { SecureRound } from './secure-round';
import { fetchVerifiedModel, isModelRejection, verifyDownloadedModel, type VerifiedModel } from './verified-model';

/** Options of {@link RoundWorker}. */
interface RoundWorkerOptions {
  session: FederationSession;
  api: SiteApi;
  enrollment: Enrollment;
  journal: Journal;
  /** The site's own audit chain: trained rounds, uploaded digests, refused versions. */
  audit?: SiteAuditLog;
  federationId: string;
  /** `planDigest` of the signed plan the session trains with (every version must carry it). */
  planSha256: string;
  logger: Logger;
  /** Cancels in-flight requests. */
  signal: AbortSignal;
  /** Push events: secure aggregation waits for `secagg:phase` instead of polling (and polls when they are down). */
  events?: Pick<PushSource, 'on' | 'connected'>;
  /** Set when the site is stopping: no new training starts (an update already trained is still uploaded). */
  stopping?: AbortSignal;
  emit: (event: RunnerProgress) => void;
  status: (status: Omit<SiteStatus, 'federationId'>) => void;
  /** Brings the local data up to date before training (with the round) and before evaluating (null). */
  refresh?: (round: number | null) => Promise<void>;
}

/**
 * How a skipped round is reported, for every code the error table makes `skip-round` (the table decides which codes
 * end a round for this site; a new `skip-round` code does not compile until it has its reason here).
 */
const SKIP_REASONS: Record<CodeWithBehaviour<'skip-round'>, SkipReason> = {
  ROUND_CLOSED: 'round-closed',
  FEDERATION_NOT_RUNNING: 'round-closed',
  WRONG_BASE_VERSION: 'wrong-base-version',
  SITE_NOT_SELECTED: 'not-selected',
  UPDATE_CONFLICT: 'update-conflict',
  // secure aggregation: the coordinator's view cannot be trusted, or the round's masks are spent
  SECAGG_INCONSISTENT: 'secagg-refused',
  SECAGG_UNTRUSTED_KEY: 'secagg-refused',
  SECAGG_MASK_REUSE: 'secagg-refused',
  SECAGG_COHORT_TOO_SMALL: 'secagg-refused',
};

/** Why the round is over for this site when `e` is a `skip-round` error; undefined otherwise. */
function skipReason(e: unknown): SkipReason | undefined {
  return e instanceof TwinfedError && hasBehaviour(e.code, 'skip-round') ? SKIP_REASONS[e.code] : undefined;
}

/** A site's evaluation of a version on its held-out rows. */
interface VersionEvaluation {
  versionId: string;
  /** The round that published the version. */
  round: number;
  report: EvaluationReport;
}

interface Sealed {
  round: number;
  baseVersionId: string;
  envelope: Uint8Array;
  /** The evaluation of the base version the envelope carries (`baseEvaluation`): the site's once the upload is acknowledged. */
  evaluation?: VersionEvaluation;
  /** The same update sealed without that evaluation, for a coordinator whose header schema does not know it yet. */
  withoutEvaluation?: () => Uint8Array;
}

/**
 * The per-round work of a site: train-and-upload at most once per round (journalled) and evaluate each
 * published version once. Keeps the sealed envelope of a failed upload so the retry sends the very same
 * bytes (the coordinator then answers `duplicate` if the first attempt did land).
 */
export class RoundWorker {
  readonly uploaded: number[] = [];
  readonly evaluated: string[] = [];
  private readonly abandoned = new Set<number>();
  private readonly doneVersions = new Set<string>();
  private readonly notified = new Set<string>();
  private sealed: Sealed | undefined;
  private cached: VerifiedModel | undefined;
  /**
   * The version whose signed download came with `rounds/current` last, and its bytes until they are used (unverified until
   * then: {@link verified}); bytes that failed verification are dropped, a later use downloads the version.
   */
  private offered: { versionId: string; bytes?: Uint8Array } | undefined;
  /** Secure aggregation, when the plan asks for it. */
  private readonly secure: SecureRound | undefined;
  /** Distributed DP (secure aggregation + `privacy.dp`): the header tells the coordinator nothing about the site's data. */
  private readonly distributedDp: boolean;
  /** False once the coordinator refused an update's header for the evaluation it carried (a coordinator from before them). */
  private carryEvaluations = true;

  constructor(private readonly o: RoundWorkerOptions) {
    const ddp = planDdpParameters(o.session.plan);
    this.secure = o.session.plan.privacy.secureAggregation
      ? new SecureRound({
          api: o.api,
          enrollment: o.enrollment,
          journal: o.journal,
          federationId: o.federationId,
          minSites: o.session.plan.minSites,
          graph: planSecaggGraph(o.session.plan),
          logger: o.logger,
          signal: o.signal,
          ...(o.events ? { events: o.events } : {}),
          ...(ddp ? { ddp } : {}),
        })
      : undefined;
    this.distributedDp = ddp !== null;
  }

  /** Trains and uploads for the current round if this site should; errors other than refusals propagate. */
  async maybeTrain(current: CurrentRound): Promise<void> {
    const r = current.round;
    if (!r) return;
    if (!current.selected) return this.skip(r.round, 'not-selected');
    if (this.o.journal.upload(this.o.federationId, r.round)) {
      // Uploaded before (perhaps before a restart): a secure round still needs this site's reveal.
      if (this.secure && !this.abandoned.has(r.round) && (r.state === 'collecting' || r.state === 'aggregating'))
        await this.revealOrSkip(r);
      return;
    }
    if (current.submitted) return this.skip(r.round, 'already-submitted');
    if (this.abandoned.has(r.round) || (r.state !== 'open' && r.state !== 'collecting')) return;
    if (this.o.stopping?.aborted && this.sealed?.round !== r.round) return;
    try {
      await this.trainAndUpload(current);
    } catch (e) {
      this.o.status({ state: 'idle' });
      if (isModelRejection(e)) {
        this.reject(r.baseVersionId, e);
        this.abandoned.add(r.round);
        return this.skip(r.round, 'model-rejected', e.message);
      }
      const reason = skipReason(e);
      if (!reason) throw e;
      this.abandoned.add(r.round);
      this.sealed = undefined;
      if (reason === 'secagg-refused') this.refusedSecure(r.round, e as TwinfedError);
      return this.skip(r.round, reason, (e as TwinfedError).message);
    }
  }

  /** Evaluates a published version once; true when there is nothing (more) to do for it. */
  async maybeEvaluate(versionId: string): Promise<boolean> {
    if (this.isEvaluated(versionId)) return true;
    const { api, signal } = this.o;
    let model: VerifiedModel;
    try {
      model = await this.verified(versionId);
    } catch (e) {
      if (!isModelRejection(e)) throw e;
      this.reject(versionId, e);
      return true;
    }
    this.o.status({ state: 'evaluating', round: model.meta.round });
    try {
      await this.o.refresh?.(null);
      const report = await this.evaluate(model);
      try {
        // Under DP a per-site evaluation is an exact number about this site's patients that ε does not cover: kept local.
        if (!this.o.session.plan.privacy.dp) await api.postEvaluation({ versionId, report, signal });
      } catch (e) {
        // A refusal of this evaluation is reported and dropped; anything to retry or fatal goes up to the runner.
        if (!(e instanceof TwinfedError) || !refusesRequest(clientBehaviour(e.code))) throw e;
        if (e.code !== 'ALREADY_EXISTS') {
          this.doneVersions.add(versionId);
          this.o.emit({
            type: 'warning',
            message: `The coordinator refused the evaluation of ${versionId}: ${e.message}`,
            code: e.code,
          });
          return true;
        }
      }
      this.evaluationDone({ versionId, round: model.meta.round, report });
      return true;
    } finally {
      this.o.status({ state: 'idle' });
    }
  }

  /** Whether this site's evaluation of the version is done (sent, kept locally under DP, or refused). */
  private isEvaluated(versionId: string): boolean {
    return this.doneVersions.has(versionId) || this.o.journal.hasEvaluation(versionId);
  }

  /** The version's evaluation on the local test split. */
  private evaluate(model: VerifiedModel): Promise<EvaluationReport> {
    return this.o.session.evaluate(model.weights, {
      recalibration: model.meta.recalibration,
      baseline: model.meta.coxBaseline,
    });
  }

  /** An evaluation the coordinator took (or, under DP, kept here): journalled, so it is not done again, and reported. */
  private evaluationDone(e: VersionEvaluation): void {
    const { versionId, round, report } = e;
    this.o.journal.recordEvaluation({
      federationId: this.o.federationId,
      versionId,
      n: report.n,
      metrics: report.metrics,
      at: new Date().toISOString(),
    });
    this.doneVersions.add(versionId);
    this.evaluated.push(versionId);
    this.o.logger.info({ versionId, round, n: report.n, metrics: report.metrics }, 'evaluated model version');
    this.o.emit({ type: 'evaluated', versionId, round, n: report.n, metrics: report.metrics });
  }

  /**
   * The evaluation of a base version this site has not evaluated yet, to travel in the update's header (a plain round)
   * or on the key-share message (a secure round: a masked update's clear header carries nothing of the site's): one
   * request fewer per round. None under DP (evaluations stay here), to a coordinator that refused one carried before
   * (from before the field), or when the coordinator would refuse it as its evaluation route would (its schema, the
   * plan's bound on n): that one goes on its own, as before.
   */
  private async baseEvaluation(base: VerifiedModel): Promise<VersionEvaluation | undefined> {
    const { plan } = this.o.session;
    // A secure round's key shares ask for one only while the coordinator takes them (secure-round).
    if (plan.privacy.dp || (!this.secure && !this.carryEvaluations) || this.isEvaluated(base.meta.versionId)) return;
    const report = await this.evaluate(base);
    if (!EvaluationReportSchema.safeParse(report).success || report.n > maxEvaluationExamples(plan)) return;
    return { versionId: base.meta.versionId, round: base.meta.round, report };
  }

  /**
   * Sends the sealed update. A coordinator that refuses the header for the evaluation it carries (`INVALID_ENVELOPE`:
   * one from before `baseEvaluation`; `INVALID_BASE_EVALUATION`: that report) gets the same update without it, and the
   * evaluation goes on its own afterwards. Answers the envelope acknowledged.
   */
  private async upload(sealed: Sealed): Promise<{ ack: UploadAck; sealed: Sealed }> {
    const { api, federationId, signal } = this.o;
    const send = (s: Sealed) => api.uploadUpdate({ federationId, round: s.round, envelope: s.envelope, signal });
    try {
      return { ack: await send(sealed), sealed };
    } catch (e) {
      const refusedEvaluation =
        e instanceof TwinfedError && (e.code === 'INVALID_ENVELOPE' || e.code === 'INVALID_BASE_EVALUATION');
      if (!sealed.withoutEvaluation || !refusedEvaluation) throw e;
      if (e.code === 'INVALID_ENVELOPE') this.carryEvaluations = false;
      this.o.logger.warn(
        { round: sealed.round, code: e.code },
        'the coordinator refused the evaluation carried with the update: sending the update without it',
      );
      const plain: Sealed = {
        round: sealed.round,
        baseVersionId: sealed.baseVersionId,
        envelope: sealed.withoutEvaluation(),
      };
      this.sealed = plain;
      return { ack: await send(plain), sealed: plain };
    }
  }

  private async trainAndUpload(current: CurrentRound): Promise<void> {
    const r = current.round!;
    const { federationId, enrollment, logger } = this.o;
    let sealed =
      this.sealed?.round === r.round && this.sealed.baseVersionId === r.baseVersionId ? this.sealed : undefined;
    // A masked update recorded before a restart is re-sent as it is: the round's masks never cover a second vector.
    const stored = sealed ? undefined : this.secure?.storedEnvelope(r.round);
    if (stored) {
      logger.info({ round: r.round }, 'secure aggregation: re-sending the masked update recorded before');
      sealed = { round: r.round, baseVersionId: r.baseVersionId, envelope: stored };
      this.sealed = sealed;
    }
    if (!sealed) {
      // The round's data first: data the guardrails refuse stop the site before it shares keys or trains.
      await this.o.refresh?.(r.round);
      // The base version's evaluation travels with a message the site sends anyway: a secure round's key shares (made
      // only once the site is about to send them), a plain round's update (its header).
      let carried: VersionEvaluation | undefined;
      const evaluateBase = async () => (carried = await this.baseEvaluation(await this.verified(r.baseVersionId)));
      if (this.secure && (await this.secure.share(r, async () => (await evaluateBase())?.report)) && carried)
        this.evaluationDone(carried);
      this.o.status({ state: 'training', round: r.round });
      this.o.emit({ type: 'training', round: r.round, baseVersionId: r.baseVersionId });
      const base = await this.verified(r.baseVersionId);
      const evaluation = this.secure ? undefined : await evaluateBase();
      const started = Date.now();
      const result = await this.o.session.train({ base, clientConfig: current.clientConfig });
      const durationMs = Date.now() - started;
      logger.info(
        { round: r.round, numExamples: result.numExamples, steps: result.steps, loss: result.meanLoss, durationMs },
        'trained',
      );
      this.o.emit({
        type: 'trained',
        round: r.round,
        numExamples: result.numExamples,
        steps: result.steps,
        loss: result.meanLoss,
        durationMs,
      });
      this.record({
        action: 'round.trained',
        subject: `${federationId}/${r.round}`,
        detail: {
          federationId,
          round: r.round,
          baseVersionId: r.baseVersionId,
          numExamples: result.numExamples,
          steps: result.steps,
        },
      });
      const metrics: Record<string, number> = { steps: result.steps };
      if (Number.isFinite(result.meanLoss)) metrics.trainLoss = result.meanLoss;
      // The plan bounds the weight one site may claim: a larger site trains on all its rows and claims the maximum.
      const numExamples = Math.min(result.numExamples, maxExamplesPerSite(this.o.session.plan.training));
      // Distributed DP: every site counts once; its loss and steps (with epochs, a function of its row count) stay here: the noise covers neither.
      const header: UpdateHeaderInput = {
        protocol: PROTOCOL_VERSION,
        federationId,
        round: r.round,
        siteId: enrollment.state.siteId,
        baseVersionId: r.baseVersionId,
        ...(this.distributedDp ? { numExamples: 1, metrics: {} } : { numExamples, metrics }),
        sentAt: new Date().toISOString(),
      };
      const seal = (h: UpdateHeaderInput) =>
        sealUpdate({
          header: h,
          weights: result.weights,
          identity: enrollment.identity,
          coordinatorBoxPublicKey: enrollment.coordinator.boxPublicKey,
        });
      if (this.secure) {
        const envelope = await this.secure.sealMasked({ header, weights: result.weights, base: base.weights });
        sealed = { round: r.round, baseVersionId: r.baseVersionId, envelope };
      } else if (evaluation) {
        sealed = {
          round: r.round,
          baseVersionId: r.baseVersionId,
          envelope: seal({ ...header, baseEvaluation: evaluation.report }),
          evaluation,
          withoutEvaluation: () => seal(header),
        };
      } else sealed = { round: r.round, baseVersionId: r.baseVersionId, envelope: seal(header) };
      this.sealed = sealed;
    }
    this.o.status({ state: 'uploading', round: r.round });
    const uploaded = await this.upload(sealed);
    const { ack } = uploaded;
    this.o.journal.recordUpload({
      federationId,
      round: r.round,
      baseVersionId: r.baseVersionId,
      digest: ack.digest,
      status: ack.status,
      receivedAt: ack.receivedAt,
    });
    this.record({
      action: 'update.uploaded',
      subject: `${federationId}/${r.round}`,
      detail: { federationId, round: r.round, digest: ack.digest, status: ack.status, receivedAt: ack.receivedAt },
    });
    this.sealed = undefined;
    this.secure?.acknowledged(r.round);
    this.o.session.acknowledged();
    this.uploaded.push(r.round);
    logger.info({ round: r.round, status: ack.status, digest: ack.digest }, 'update acknowledged');
    this.o.emit({ type: 'uploaded', round: r.round, status: ack.status, digest: ack.digest });
    // Acknowledged (or a duplicate of these very bytes): the coordinator stored the evaluation with the update.
    if (uploaded.sealed.evaluation) this.evaluationDone(uploaded.sealed.evaluation);
    this.o.status({ state: 'idle' });
    if (this.secure) await this.revealOrSkip(r);
  }

  /**
   * Steps 3–4 of secure aggregation. The round moving on is not an error of this site; a coordinator caught lying
   * (`SECAGG_*`) ends the round for this site: nothing more is sent, and the refusal is logged, audited and reported.
   */
  private async revealOrSkip(r: { round: number; baseVersionId: string }): Promise<void> {
    try {
      await this.secure!.reveal(r);
    } catch (e) {
      if (!(e instanceof TwinfedError)) throw e;
      const reason = skipReason(e);
      if (reason === 'secagg-refused') {
        this.abandoned.add(r.round);
        this.refusedSecure(r.round, e);
        return this.skip(r.round, 'secagg-refused', e.message);
      }
      // The round is over for this site, or past its reveal phase (SECAGG_PHASE here): nothing to reveal.
      if (!reason && e.code !== 'SECAGG_PHASE') throw e;
      this.o.logger.info({ round: r.round, code: e.code }, 'secure aggregation: no reveal needed');
    }
  }

  /** A secure round this site refused: logged as an error and kept in the site's audit chain (the evidence stays in the journal). */
  private refusedSecure(round: number, e: TwinfedError): void {
    this.o.logger.error(
      { round, code: e.code, err: e.message },
      "secure aggregation refused: the coordinator's view of the round cannot be trusted",
    );
    this.record({
      action: 'secagg.refused',
      subject: `${this.o.federationId}/${round}`,
      detail: { federationId: this.o.federationId, round, code: e.code, message: e.message },
    });
  }

  /** The version, fetched and verified against the pinned key (the last one is cached). */
  verifiedModel(versionId: string): Promise<VerifiedModel> {
    return this.verified(versionId);
  }

  /**
   * The version this site holds or was offered last, for `rounds/current/download?have=` (so the coordinator does not
   * send it again, whether it verified or not: a refused version is not sent twice).
   */
  get heldVersionId(): string | undefined {
    return this.offered?.versionId ?? this.cached?.meta.versionId;
  }

  /** A version's signed download that came with `rounds/current`: used, once verified, instead of downloading it. */
  offer(versionId: string, bytes: Uint8Array): void {
    if (this.cached?.meta.versionId !== versionId) this.offered = { versionId, bytes };
  }

  private async verified(versionId: string): Promise<VerifiedModel> {
    if (this.cached?.meta.versionId === versionId) return this.cached;
    const expected = {
      versionId,
      federationId: this.o.federationId,
      coordinatorSignPublicKey: this.o.enrollment.coordinator.signPublicKey,
      expectedLayout: this.o.session.layout,
      planSha256: this.o.planSha256,
    };
    const offered = this.offered?.versionId === versionId ? this.offered.bytes : undefined;
    let model: VerifiedModel;
    if (offered) {
      // Verified exactly as a download: a refusal is the same refusal, and the version is not offered again.
      this.offered = { versionId };
      model = verifyDownloadedModel(offered, expected);
    } else model = await fetchVerifiedModel({ ...expected, api: this.o.api, signal: this.o.signal });
    if (this.offered?.versionId === versionId) this.offered = undefined;
    this.cached = model;
    return model;
  }

  private reject(versionId: string, e: TwinfedError): void {
    this.doneVersions.add(versionId);
    if (this.notified.has(`reject:${versionId}`)) return;
    this.notified.add(`reject:${versionId}`);
    this.o.logger.error({ versionId, code: e.code }, 'refused model version');
    this.record({
      action: 'version.refused',
      subject: versionId,
      detail: { federationId: this.o.federationId, versionId, code: e.code },
    });
    this.o.emit({ type: 'model-rejected', versionId, code: e.code, message: e.message });
  }

  /** Appends to the site's audit chain; a failure to record is logged, never stops the round. */
  private record(input: Parameters<SiteAuditLog['append']>[0]): void {
    this.o.audit?.record(input, (err) => this.o.logger.warn({ err }, 'could not append to the site audit chain'));
  }

  private skip(round: number, reason: SkipReason, message?: string): void {
    const key = `${round}:${reason}`;
    if (this.notified.has(key)) return;
    this.notified.add(key);
    this.o.emit({ type: 'skipped', round, reason, ...(message ? { message } : {}) });
  }
}
