import { TwinfedError, isTwinfedError, type CurrentRound, type ServerToClientEvents } from '@twinfed/shared';
import type { Enrollment } from '../identity/load';
import { silentLogger, type Logger } from '../logger';
import type { SiteApi } from '../transport/coordinator-client';
import type { ConnectionListener, SiteStatus } from '../transport/event-stream';
import { sleep } from '../transport/retry';
import type { LocalDataset } from './dataset';
import { FederationSession, type ModelOps } from './federation-session';
import type { Journal } from './journal';
import type { ProgressListener, RunnerProgress, RunSummary } from './progress';
import { RoundWorker } from './round-worker';

/** Push events the runner listens to ({@link EventStream} implements it). */
export interface PushSource {
  on<E extends keyof ServerToClientEvents>(event: E, handler: ServerToClientEvents[E]): () => void;
  onConnection(listener: ConnectionListener): () => void;
  start(): void;
  close(): void;
  reportStatus(status: SiteStatus): Promise<unknown>;
}

/** Options of {@link SiteRunner}. */
export interface SiteRunnerOptions {
  federationId: string;
  enrollment: Enrollment;
  api: SiteApi;
  /** Push events; optional (without them the runner only polls). */
  events?: PushSource;
  /** Local data, featurised in the plan's feature order (normalised by the runner as the plan says). */
  dataset: LocalDataset;
  journal: Journal;
  logger?: Logger;
  /** Poll interval of `rounds/current` (default 3000 ms). */
  pollIntervalMs?: number;
  modelOps?: ModelOps;
  /** Overrides the trainer seed. */
  seed?: number;
  onProgress?: ProgressListener;
  /**
   * After {@link SiteRunner.stop}, how long an update already trained or being uploaded may take to be
   * acknowledged (and journalled) before in-flight requests are cancelled. Default 10 s.
   */
  stopGraceMs?: number;
}

/** Errors after which running on is pointless: the site's identity, the federation or the local setup is wrong. */
const FATAL = new Set(['SITE_REVOKED', 'UNKNOWN_SITE', 'BAD_SIGNATURE', 'UNKNOWN_FEDERATION', 'FORBIDDEN', 'PROTOCOL_MISMATCH', 'CONFIG_INVALID', 'INVALID_PLAN', 'UNAUTHENTICATED']);

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
  private readonly pendingVersions = new Set<string>();
  private session: FederationSession | undefined;
  private worker: RoundWorker | undefined;
  private lastRoundKey = '';
  private wakeUp: (() => void) | undefined;
  private woken = false;

  constructor(private readonly options: SiteRunnerOptions) {
    this.logger = (options.logger ?? silentLogger()).child({ federationId: options.federationId, siteId: options.enrollment.state.siteId });
    if (options.onProgress) this.listeners.add(options.onProgress);
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
      for (;;) {
        if (this.controller.signal.aborted) return this.summary('stopped');
        try {
          const ended = await this.tick();
          if (ended) return this.summary(ended);
        } catch (e) {
          if (this.controller.signal.aborted) return this.summary('stopped');
          if (isTwinfedError(e) && FATAL.has(e.code)) throw e;
          const err = e instanceof TwinfedError ? e : new TwinfedError('INTERNAL', e instanceof Error ? e.message : String(e), { cause: e });
          this.logger.warn({ code: err.code, err: err.message }, 'tick failed; will retry');
          this.emit({ type: 'warning', message: err.message, code: err.code });
        }
        await this.waitForWake();
      }
    } finally {
      if (this.hardTimer) clearTimeout(this.hardTimer);
      unsubscribe();
      events?.close();
      this.session?.dispose();
      this.logger.info({ federationId }, 'runner stopped');
    }
  }

  private async tick(): Promise<RunSummary['state'] | undefined> {
    const { api, federationId } = this.options;
    const current = await api.currentRound(federationId, { signal: this.hard.signal });
    const worker = await this.ensureWorker(current);
    this.reportRound(current);
    if (current.round && current.federation.state === 'running') await worker.maybeTrain(current);
    const latest = current.federation.latestVersionId;
    const versions = new Set([...(latest ? [latest] : []), ...this.pendingVersions]);
    for (const versionId of versions) {
      if (this.controller.signal.aborted) return undefined;
      if (await worker.maybeEvaluate(versionId)) this.pendingVersions.delete(versionId);
    }
    if (current.federation.state !== 'running') {
      this.emit({ type: 'ended', federationId, state: current.federation.state });
      return current.federation.state;
    }
    return undefined;
  }

  private async ensureWorker(current: CurrentRound): Promise<RoundWorker> {
    if (this.worker) return this.worker;
    const { options } = this;
    this.session = await FederationSession.create({
      plan: current.federation.plan,
      dataset: options.dataset,
      siteId: options.enrollment.state.siteId,
      ...(options.modelOps ? { ops: options.modelOps } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      onWarning: (message) => this.emit({ type: 'warning', message }),
    });
    this.worker = new RoundWorker({
      session: this.session,
      api: options.api,
      enrollment: options.enrollment,
      journal: options.journal,
      federationId: options.federationId,
      logger: this.logger,
      signal: this.hard.signal,
      stopping: this.controller.signal,
      emit: (e) => this.emit(e),
      status: (s) => void options.events?.reportStatus({ ...s, federationId: options.federationId }).catch(() => undefined),
    });
    this.emit({ type: 'started', federationId: options.federationId, siteId: options.enrollment.state.siteId, trainRows: this.session.dataset.train.n, testRows: this.session.dataset.test.n });
    return this.worker;
  }

  private reportRound(current: CurrentRound): void {
    const r = current.round;
    if (!r) return;
    const key = `${r.round}:${r.state}:${current.selected}:${current.submitted}`;
    if (key === this.lastRoundKey) return;
    this.lastRoundKey = key;
    this.emit({ type: 'round', federationId: r.federationId, round: r.round, state: r.state, selected: current.selected, submitted: current.submitted });
  }

  private subscribe(): () => void {
    const events = this.options.events;
    if (!events) return () => undefined;
    const mine = (e: { federationId: string }): boolean => e.federationId === this.options.federationId;
    const offs = [
      events.on('round:opened', (e) => mine(e) && this.wake()),
      events.on('round:failed', (e) => mine(e) && this.wake()),
      events.on('federation:ended', (e) => mine(e) && this.wake()),
      events.on('model:published', (e) => {
        if (!mine(e)) return;
        this.pendingVersions.add(e.versionId);
        this.wake();
      }),
      events.onConnection((s) => {
        this.emit({ type: 'connection', connected: s.connected, ...(s.reason ? { reason: s.reason } : {}) });
        if (s.connected) this.wake();
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  private wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private async waitForWake(): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return;
    }
    const wake = new AbortController();
    this.wakeUp = () => wake.abort();
    await sleep(this.options.pollIntervalMs ?? 3000, AbortSignal.any([wake.signal, this.controller.signal]));
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
    return { federationId: this.options.federationId, state, roundsUploaded: this.worker?.uploaded ?? [], versionsEvaluated: this.worker?.evaluated ?? [] };
  }
}
