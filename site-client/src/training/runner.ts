import {
  TwinfedError,
  behaviourOf,
  isFatal,
  isTwinfedError,
  SignedPlanMemo,
  verifySignedPlan,
  type CurrentRound,
  silentLogger,
  type Logger,
} from '@twinfed/shared';
import { PlanDecisions } from '../governance/decisions';
import { PlanGate } from '../governance/gate';
import { effectivePopulationK } from '../governance/policy';
import type { CurrentRoundWithVersion } from '../transport/coordinator-client';
import { sleep } from '../transport/retry';
import { assertTrainableData } from './data-guard';
import { BaselineStep, inBaselinePhase } from './baseline-step';
import { CrossSiteStep } from './cross-site-step';
import { FederatedStatsStep } from './federated-stats';
import { FederationSession } from './federation-session';
import { RecalibrationStep } from './recalibration-step';
import type { ProgressListener, RunnerProgress, RunSummary } from './progress';
import { RoundWorker } from './round-worker';
import type { SiteRunnerOptions } from './runner-options';
import { isModelRejection } from './verified-model';

/**
 * A site's work loop in one federation. On every wake-up (a push event, or the poll timer) it asks the
 * coordinator for `rounds/current`; when this site is selected and has not submitted, it fetches and verifies
 * the base model, trains, seals and uploads (at most once per round, journalled); when a new version is
 * published it verifies it, evaluates it on the local test split and reports the metrics. Ends when the
 * federation reaches a final state.
 */
export class SiteRunner {
  private readonly listeners = new Set<ProgressListener>();
  private readonly logger: Logger;
  /** Aborted by stop(): no new work starts. */
  private readonly controller = new AbortController();
  /** Aborted when the stop grace period ends (or at a second stop): in-flight requests are cancelled. */
  private readonly hard = new AbortController();
  private hardTimer: NodeJS.Timeout | undefined;
  /** Wakes the loop for announced versions that no other wake-up brought (see versionPublished). */
  private versionTimer: NodeJS.Timeout | undefined;
  private readonly pendingVersions = new Set<string>();
  private readonly hookedVersions = new Set<string>();
  private session: FederationSession | undefined;
  private worker: RoundWorker | undefined;
  /** The plan hash the worker was built for. */
  private workerPlan: string | undefined;
  private lastRoundKey = '';
  private stats = new FederatedStatsStep((e) => this.emit(e));
  private readonly recalibration = new RecalibrationStep((e) => this.emit(e));
  private readonly baseline = new BaselineStep((e) => this.emit(e));
  private crossSite: CrossSiteStep | undefined;
  private readonly gate: PlanGate;
  /** Plan statements this site verified (verified once, checked against the served plan at every wake-up). */
  private readonly planMemo = new SignedPlanMemo();
  private wakeUp: (() => void) | undefined;
  private woken = false;
  /** True while the first rounds/current waits for the event stream (see firstConnection). */
  private awaitingSocket = false;
  /**
   * False while every wake-up since the last `rounds/current` was a `model:published` event, which carries the
   * version id: then the next tick evaluates the announced versions without asking for `rounds/current` again.
   */
  private pollNeeded = true;
  /**
   * The ticks that asked for `rounds/current` so far. A version's grace ({@link versionPublished}) belongs to the polls
   * before it: a poll begun since brings the latest version, so that grace ending later wakes nothing.
   */
  private polls = 0;

  constructor(private readonly options: SiteRunnerOptions) {
    this.logger = (options.logger ?? silentLogger()).child({
      federationId: options.federationId,
      siteId: options.enrollment.state.siteId,
    });
    if (options.onProgress) this.listeners.add(options.onProgress);
    const { policy } = options;
    this.gate = new PlanGate({
      decisions: new PlanDecisions(options.audit),
      policy: typeof policy === 'function' ? policy : () => policy,
      ...(options.decisionChannel ? { channel: options.decisionChannel } : {}),
      onWarning: (message, code) => this.emit({ type: 'warning', message, ...(code ? { code } : {}) }),
      onApproved: (a) =>
        this.emit({
          type: 'plan',
          federationId: a.federationId,
          planSha256: a.planSha256,
          decidedBy: a.decidedBy,
          by: a.actor,
          at: a.at,
        }),
    });
  }

  /** Subscribes to progress; returns the unsubscribe function. */
  onProgress(listener: ProgressListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Asks the loop to stop; `run` then resolves with state `stopped` (locally). No new training starts; an
   * update already trained or being uploaded gets `stopGraceMs` to be acknowledged and journalled, so a
   * restarted site neither loses nor repeats it. A second call cancels in-flight requests at once.
   */
  stop(): void {
    if (this.controller.signal.aborted) {
      this.hard.abort();
      return;
    }
    this.controller.abort();
    this.wake();
    const grace = this.options.stopGraceMs ?? 10_000;
    if (grace <= 0) this.hard.abort();
    else {
      this.hardTimer = setTimeout(() => this.hard.abort(), grace);
      this.hardTimer.unref?.();
    }
  }

  /** Runs until the federation ends (or {@link stop}); rejects on fatal errors (revoked site, bad data, …). */
  async run(): Promise<RunSummary> {
    const { events, federationId } = this.options;
    const unsubscribe = this.subscribe();
    events?.start();
    try {
      await this.firstConnection();
      for (;;) {
        if (this.controller.signal.aborted) return this.summary('stopped');
        try {
          const ended = await this.tick();
          if (ended) return this.summary(ended);
        } catch (e) {
          if (this.controller.signal.aborted) return this.summary('stopped');
          // The error table decides: fatal for the federation or the site ends the run; anything else waits for the next wake-up.
          if (isTwinfedError(e) && isFatal(behaviourOf(e))) {
            const refused = e.code.startsWith('DATA_')
              ? 'data.refused'
              : e.code.startsWith('PLAN_')
                ? 'plan.refused'
                : undefined;
            if (refused) {
              this.options.audit.record(
                {
                  action: refused,
                  subject: federationId,
                  detail: { federationId, code: e.code, ...(e.details === undefined ? {} : { details: e.details }) },
                },
                (err) => this.logger.warn({ err }, 'could not append to the site audit chain'),
              );
            }
            throw e;
          }
          this.pollNeeded = true;
          const err =
            e instanceof TwinfedError
              ? e
              : new TwinfedError('INTERNAL', e instanceof Error ? e.message : String(e), { cause: e });
          this.logger.warn({ code: err.code, err: err.message }, 'tick failed; will retry');
          this.emit({ type: 'warning', message: err.message, code: err.code });
        }
        await this.waitForWake();
      }
    } finally {
      if (this.hardTimer) clearTimeout(this.hardTimer);
      if (this.versionTimer) clearTimeout(this.versionTimer);
      unsubscribe();
      events?.close();
      this.session?.dispose();
      this.logger.info({ federationId }, 'runner stopped');
    }
  }

  private async tick(): Promise<RunSummary['state'] | undefined> {
    const { federationId } = this.options;
    if (!this.pollNeeded && this.worker) {
      // Woken only by model:published: the event named the versions; rounds/current has nothing else new (the poll is the fallback).
      await this.evaluateVersions(this.worker, this.pendingVersions);
      return undefined;
    }
    this.pollNeeded = false;
    this.polls++;
    // This poll brings the latest version: the grace of every version announced so far is over.
    if (this.versionTimer) clearTimeout(this.versionTimer);
    this.versionTimer = undefined;
    // A version announced from here on waits for its grace (versionPublished): the round's answers often come after
    // the coordinator published and before it opened the next round, whose rounds/current brings the version along.
    const announced = [...this.pendingVersions];
    const polled = await this.poll().catch(async (e: unknown) => {
      if (isTwinfedError(e) && e.code === 'NOT_A_MEMBER') await this.decideFromOffer();
      throw e;
    });
    const { current } = polled;
    const planSha256 = this.trustedPlan(current.federation);
    // The site's own say, at every round: its policy, then its decision about this very plan hash.
    await this.gate.check(federationId, current.federation.plan, planSha256, this.hard.signal);
    if (this.workerPlan !== undefined && this.workerPlan !== planSha256) this.dropWorker();
    const worker = await this.ensureWorker(current, planSha256);
    if (!worker) {
      // Waiting for the cohort's federated statistics: nothing to train or evaluate yet.
      if (current.federation.state === 'running') return undefined;
      this.emit({ type: 'ended', federationId, state: current.federation.state });
      return current.federation.state;
    }
    const latest = current.federation.latestVersionId;
    if (polled.version && latest) worker.offer(latest, polled.version);
    this.reportRound(current);
    if (current.round && current.federation.state === 'running') await worker.maybeTrain(current);
    await this.evaluateVersions(worker, new Set([...(latest ? [latest] : []), ...announced]));
    if (this.controller.signal.aborted) return undefined;
    if (inBaselinePhase(current.federation.plan, current)) await this.contributeBaseline(worker, current);
    if (current.federation.state === 'completed') {
      // Both after-completion steps move on at every wake-up, neither waits for the other (recalibration-step.ts,
      // cross-site-step.ts); the run ends once both are done.
      const recalibrated = await this.recalibrated(worker);
      if (this.controller.signal.aborted) return undefined;
      const crossSiteDone = await this.crossSiteDone(worker);
      if (!recalibrated || !crossSiteDone) return undefined;
    }
    if (current.federation.state !== 'running') {
      this.emit({ type: 'ended', federationId, state: current.federation.state });
      return current.federation.state;
    }
    return undefined;
  }

  /**
   * `rounds/current`, with the latest version unless the worker holds it when the coordinator serves both in one answer
   * (`GET …/rounds/current/download`; the client falls back to `rounds/current` at a coordinator without it).
   */
  private poll(): Promise<CurrentRoundWithVersion> {
    const { api, federationId } = this.options;
    const signal = this.hard.signal;
    if (api.currentRoundWithVersion)
      return api.currentRoundWithVersion(federationId, { have: this.worker?.heldVersionId, signal });
    return api.currentRound(federationId, { signal }).then((current) => ({ current }));
  }

  /** A Cox federation's federated baseline after its last round (baseline-step.ts); a failure is a warning, retried at the next wake-up. */
  private async contributeBaseline(worker: RoundWorker, current: CurrentRound): Promise<void> {
    const { api, federationId, enrollment, journal } = this.options;
    const session = this.session;
    if (!session) return;
    try {
      await this.baseline.run({
        api,
        federationId,
        enrollment,
        journal,
        plan: current.federation.plan,
        weightsOf: async (versionId) => (await worker.verifiedModel(versionId)).weights,
        riskScores: (weights) => session.trainRiskScores(weights),
        signal: this.hard.signal,
      });
    } catch (e) {
      if (this.hard.signal.aborted) throw e;
      const message = `The federated baseline step failed: ${(e as Error).message}`;
      this.logger.warn({ err: e }, 'federated baseline step failed');
      this.emit({ type: 'warning', message, ...(isTwinfedError(e) ? { code: e.code } : {}) });
    }
  }

  /**
   * After a completed federation whose plan asks for it, this site's part in the cross-site evaluation (one step per
   * wake-up; the runner ends once it returns true). True at once when the plan does not ask for one.
   */
  private async crossSiteDone(worker: RoundWorker): Promise<boolean> {
    const session = this.session;
    if (!session?.plan.crossSiteEvaluation) return true;
    const { options } = this;
    const policy = () => (typeof options.policy === 'function' ? options.policy() : options.policy);
    this.crossSite ??= new CrossSiteStep({
      api: options.api,
      federationId: options.federationId,
      enrollment: options.enrollment,
      journal: options.journal,
      session,
      allowed: () => policy().crossSiteEvaluation?.allowed !== false,
      minCell: effectivePopulationK(session.plan, policy()),
      verifiedModel: (versionId) => worker.verifiedModel(versionId),
      logger: this.logger,
      signal: this.hard.signal,
      emit: (e) => this.emit(e),
    });
    return this.crossSite.run();
  }

  /**
   * A completed federation whose plan recalibrates: this site's histogram is sent, and the recalibrated version, once
   * out, evaluated. True once the recalibration settled (fitted and evaluated, expired or failed): the run may end.
   */
  private async recalibrated(worker: RoundWorker): Promise<boolean> {
    const { api, federationId, enrollment, journal } = this.options;
    const session = this.session!;
    const r = await this.recalibration.run({
      api,
      federationId,
      enrollment,
      journal,
      plan: session.plan,
      session,
      worker,
      signal: this.hard.signal,
    });
    if (!r.settled) return false;
    if (r.versionId) await this.evaluateVersions(worker, new Set([r.versionId]));
    return true;
  }

  /**
   * A site enrolled after the federation started is not yet a member (NOT_A_MEMBER, retried until a round selects it),
   * but it is offered the running plan: the gate decides about it now (its policy may approve it, and the approval is
   * reported), since a federation that requires approvals selects only sites that approved. Without an offer (no
   * channel, or the federation no longer runs) the NOT_A_MEMBER stands.
   */
  private async decideFromOffer(): Promise<void> {
    const { decisionChannel, federationId } = this.options;
    const offer = (await decisionChannel?.offered({ signal: this.hard.signal }))?.find(
      (o) => o.federation.id === federationId,
    );
    if (!offer) return;
    const planSha256 = this.trustedPlan(offer.federation);
    await this.gate.check(federationId, offer.federation.plan, planSha256, this.hard.signal);
  }

  /**
   * The digest of the plan served with the federation, checked at every wake-up: signed by the pinned coordinator
   * key for this federation (`PLAN_SIGNATURE_INVALID`) and, once this site took part (an update or its statistics),
   * the plan it pinned then (`PLAN_CHANGED`: the operator may amend a plan only before its first round; after that a
   * new plan is a new federation). A plan amended before this site took part is a new plan hash: the gate asks for a
   * decision about it, and the work is set up again for it.
   */
  private trustedPlan(federation: Pick<CurrentRound['federation'], 'plan' | 'signedPlan'>): string {
    const { federationId, enrollment, journal } = this.options;
    const { plan, signedPlan } = federation;
    const digest = verifySignedPlan({
      federationId,
      plan,
      signedPlan,
      coordinatorSignPublicKey: enrollment.coordinator.signPublicKey,
      memo: this.planMemo, // the same statement at every wake-up: its signature is verified once
    });
    const pinned = journal.pinnedPlan(federationId);
    if (pinned && pinned.planSha256 !== digest && journal.tookPart(federationId)) {
      throw new TwinfedError(
        'PLAN_CHANGED',
        `The coordinator now serves another plan for ${federationId} (digest ${digest.slice(0, 12)}…) than the one this site took part with since ${pinned.at} (${pinned.planSha256.slice(0, 12)}…). A federation's plan never changes: this site will not train on it. Ask the operator; a new plan is a new federation.`,
      );
    }
    return digest;
  }

  private async ensureWorker(current: CurrentRound, planSha256: string): Promise<RoundWorker | undefined> {
    if (this.worker) return this.worker;
    const { options } = this;
    const plan = current.federation.plan;
    const dataset =
      options.dataset ?? (await options.datasetSource?.load({ plan, round: current.round?.round ?? null }));
    if (!dataset)
      throw new TwinfedError('CONFIG_INVALID', 'The runner needs local data: a dataset or a dataset source.');
    // Before anything is contributed (statistics, updates, evaluations): data that cannot teach the model stop the site.
    assertTrainableData(plan, dataset);
    const { api, federationId, enrollment } = options;
    // From here on the site contributes (statistics, updates, evaluations): it pins the plan it accepted.
    options.journal.pinPlan({ federationId, planSha256, at: new Date().toISOString() });
    const standardizer = await this.stats.run({
      api,
      federationId,
      enrollment,
      journal: options.journal,
      plan,
      dataset,
      signal: this.hard.signal,
    });
    if (standardizer === null) return undefined;
    this.workerPlan = planSha256;
    this.session = await FederationSession.create({
      plan,
      dataset,
      siteId: options.enrollment.state.siteId,
      ...(options.modelOps ? { ops: options.modelOps } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(standardizer ? { standardizer } : {}),
      onWarning: (message) => this.emit({ type: 'warning', message }),
      minCell: effectivePopulationK(plan, typeof options.policy === 'function' ? options.policy() : options.policy),
    });
    this.worker = new RoundWorker({
      session: this.session,
      api: options.api,
      enrollment: options.enrollment,
      journal: options.journal,
      ...(options.audit ? { audit: options.audit } : {}),
      federationId: options.federationId,
      planSha256,
      logger: this.logger,
      signal: this.hard.signal,
      ...(options.events ? { events: options.events } : {}),
      stopping: this.controller.signal,
      emit: (e) => this.emit(e),
      status: (s) =>
        void options.events?.reportStatus({ ...s, federationId: options.federationId }).catch(() => undefined),
      ...(options.datasetSource ? { refresh: (round: number | null) => this.refresh(round) } : {}),
    });
    this.emit({
      type: 'started',
      federationId: options.federationId,
      siteId: options.enrollment.state.siteId,
      trainRows: this.session.dataset.train.n,
      testRows: this.session.dataset.test.n,
    });
    return this.worker;
  }

  /** Forgets the work set up for an earlier plan (amended before this site took part): the next tick sets it up anew. */
  private dropWorker(): void {
    this.session?.dispose();
    this.session = undefined;
    this.worker = undefined;
    this.workerPlan = undefined;
    this.crossSite = undefined;
    this.stats = new FederatedStatsStep((e) => this.emit(e));
  }

  /** Asks the dataset source for the current data; a changed dataset gets a fresh trainer. */
  private async refresh(round: number | null): Promise<void> {
    const source = this.options.datasetSource;
    const session = this.session;
    if (!source || !session) return;
    const dataset = await source.load({ plan: session.plan, round });
    if (dataset !== session.rawDataset) assertTrainableData(session.plan, dataset);
    if (await session.refresh(dataset))
      this.emit({ type: 'dataset', round, trainRows: session.dataset.train.n, testRows: session.dataset.test.n });
  }

  /** Verifies, evaluates and hands each version to the version hook once; a version not done yet stays pending. */
  private async evaluateVersions(worker: RoundWorker, versions: ReadonlySet<string>): Promise<void> {
    for (const versionId of [...versions]) {
      if (this.controller.signal.aborted) return;
      const evaluated = await worker.maybeEvaluate(versionId);
      if ((await this.afterVersion(worker, versionId)) && evaluated) this.pendingVersions.delete(versionId);
    }
  }

  /** Runs the version hook once per version (true when done, or nothing to do). */
  private async afterVersion(worker: RoundWorker, versionId: string): Promise<boolean> {
    const hook = this.options.afterVersion;
    const session = this.session;
    if (!hook || !session || this.hookedVersions.has(versionId)) return true;
    try {
      const model = await worker.verifiedModel(versionId);
      await hook({
        versionId,
        model,
        plan: session.plan,
        dataset: session.rawDataset,
        standardizer: session.standardizer,
        signal: this.hard.signal,
        emit: (e) => this.emit(e),
      });
    } catch (e) {
      if (!isModelRejection(e)) {
        this.pendingVersions.add(versionId); // retried at the next wake-up even when a newer version is out by then
        throw e;
      }
    }
    this.hookedVersions.add(versionId);
    return true;
  }

  private reportRound(current: CurrentRound): void {
    const r = current.round;
    if (!r) return;
    const key = `${r.round}:${r.state}:${current.selected}:${current.submitted}`;
    if (key === this.lastRoundKey) return;
    this.lastRoundKey = key;
    this.emit({
      type: 'round',
      federationId: r.federationId,
      round: r.round,
      state: r.state,
      selected: current.selected,
      submitted: current.submitted,
    });
  }

  private subscribe(): () => void {
    const events = this.options.events;
    if (!events) return () => undefined;
    const mine = (e: { federationId: string }): boolean => e.federationId === this.options.federationId;
    const offs = [
      events.on('round:opened', (e) => mine(e) && this.wake(true)),
      events.on('round:failed', (e) => mine(e) && this.wake(true)),
      events.on('federation:ended', (e) => mine(e) && this.wake(true)),
      events.on('model:published', (e) => {
        if (!mine(e)) return;
        this.pendingVersions.add(e.versionId);
        this.versionPublished();
      }),
      events.onConnection((s) => {
        this.emit({ type: 'connection', connected: s.connected, ...(s.reason ? { reason: s.reason } : {}) });
        // A connection: the catch-up poll (see firstConnection). A failed attempt ends the first poll's wait.
        if (s.connected || this.awaitingSocket) this.wake(true);
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  /**
   * A version was announced. When `rounds/current` brings the latest version along, the `round:opened` or
   * `federation:ended` that follows a round's version at once brings it: the loop wakes for the version alone only
   * if nothing else woke it within `versionGraceMs` (a version published outside a round, or a next round that waits
   * for approvals). Otherwise it wakes now and downloads the version. A version announced while a tick runs (the
   * answer to the round's update or reveal often comes after the publication) waits for its grace too: that tick does
   * not evaluate it. A poll begun before the grace is over ends it (that poll brings the latest version): a grace left
   * to run would wake a later tick that evaluates, without their grace, the versions announced after that poll.
   */
  private versionPublished(): void {
    if (!this.options.api.currentRoundWithVersion) return this.wake(false);
    if (this.versionTimer) return;
    const polls = this.polls;
    this.versionTimer = setTimeout(() => {
      this.versionTimer = undefined;
      // After the events already received: a process busy past the grace runs this timer before it reads them, and a
      // round:opened among them brings the version with its rounds/current (a poll begun since: nothing to wake for).
      setImmediate(() => {
        if (this.polls === polls) this.wake(false);
      });
    }, this.options.versionGraceMs ?? 2000);
    this.versionTimer.unref?.();
  }

  /**
   * Before the first `rounds/current`: waits for the event stream's first connection, at most `connectWaitMs`, and not
   * past its first failed attempt. An event is missed only if the coordinator sent it after a poll read the state and
   * before the socket was subscribed (the coordinator adds a socket to its namespace as it sends the connection's
   * acknowledgement, and the client's `connect` comes from that acknowledgement). A poll sent after `connect` is read
   * after the subscription, so every event before it is in its answer and every event after it comes on the socket:
   * the first poll then also stands for the connection's catch-up poll, and the wake-ups so far are its own. A poll
   * sent before `connect` (the socket slow, refused or absent) may have been read before the subscription: the
   * connection then wakes the loop for a catch-up poll, as every later connection (a reconnect) does.
   */
  private async firstConnection(): Promise<void> {
    const events = this.options.events;
    const waitMs = this.options.connectWaitMs ?? 2000;
    // A source that cannot tell whether it is connected (`connected` undefined) is not waited for.
    if (events?.connected === false && waitMs > 0) {
      this.awaitingSocket = true;
      try {
        await this.waitForWake(waitMs);
      } finally {
        this.awaitingSocket = false;
      }
    }
    this.woken = false;
  }

  /** Wakes the loop; `poll`: the next tick asks for rounds/current (anything but a version announcement needs it). */
  private wake(poll = true): void {
    if (poll) this.pollNeeded = true;
    this.woken = true;
    this.wakeUp?.();
  }

  private async waitForWake(ms = this.options.pollIntervalMs ?? 3000): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return;
    }
    const wake = new AbortController();
    this.wakeUp = () => wake.abort();
    await sleep(ms, AbortSignal.any([wake.signal, this.controller.signal]));
    if (!wake.signal.aborted) this.pollNeeded = true; // the poll timer: the fallback when events are missed
    this.wakeUp = undefined;
    this.woken = false;
  }

  private emit(event: RunnerProgress): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (e) {
        this.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'progress listener threw');
      }
    }
  }

  private summary(state: RunSummary['state']): RunSummary {
    return {
      federationId: this.options.federationId,
      state,
      roundsUploaded: this.worker?.uploaded ?? [],
      versionsEvaluated: this.worker?.evaluated ?? [],
    };
  }
}
