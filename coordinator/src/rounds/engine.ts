import { randomBytes } from 'node:crypto';
import {
  DEFAULT_STUDY_ID,
  PlanSchema,
  TwinfedError,
  planDigest,
  layoutOf,
  layoutSize,
  secaggVectorLength,
  requiresApprovals,
  type CurrentRound,
  type Plan,
  type PlanDecision,
  type SecaggAck,
  type SecaggConsistency,
  type SecaggReveal,
  type SecaggShares,
  type SecaggState,
  type SecaggStateView,
  type SecaggStateSection,
  type UploadAck,
} from '@twinfed/shared';
import type { Federation, Round, Site, SiteDecisionRecord } from '../store';
import { AccumulatorCache } from './accumulators';
import { BaselineFinish } from './baseline';
import { CatchUp } from './catch-up';
import { RoundClosing } from './closing';
import { EngineCore, closeTarget, type EngineDeps, type Loaded } from './core';
import { Deadlines } from './deadlines';
import { RoundOpening } from './opening';
import { Publishing } from './publishing';
import { toResult } from './results';
import { RoundScheduler } from './scheduler';
import { SiteDirectory } from '../registry/site-directory';
import { SecureAggregation } from './secagg';
import { UpdateOpener, type OpenedUpdate, type ReceivedUpdate } from './update-opener';
import { carriedEvaluation, checkExampleClaim, checkMaskedHeader, checkRoundAccepts } from './upload-check';
import { roundView, siteFederationView } from './views';

/** A site's request about a secure round (`federation`: the record its membership check has just read, if any). */
interface SecureRoundRequest {
  federationId: string;
  round: number;
  siteId: string;
  federation?: Federation;
}

/**
 * Runs every federation's rounds: open → collecting → aggregating → published (or failed), with each
 * transition persisted before it is announced. All transitions of one federation are serialised; the store
 * is the truth, so {@link RoundEngine.resume} continues every round after a restart or crash at any point.
 */
export class RoundEngine {
  private readonly core: EngineCore;
  private readonly opener: UpdateOpener;
  private readonly scheduler: RoundScheduler;
  private readonly accumulators = new AccumulatorCache();
  private readonly publishing: Publishing;
  private readonly closing: RoundClosing;
  private readonly opening: RoundOpening;
  private readonly baseline: BaselineFinish;
  private readonly secagg: SecureAggregation;
  private readonly catchUp: CatchUp;
  /** Federations with a poll tick queued in their serial section (one at a time). */
  /** Catch-up ticks per federation: waiting for its serial section, running, or running with another one asked for. */
  private readonly polls = new Map<string, 'queued' | 'running' | 'again'>();
  /** Set by {@link close}: no new round opens. */
  private stopped = false;
  /** The coordinator-signed site directory: how sites receive their peers' enrolled keys. */
  readonly directory: SiteDirectory;

  constructor(private readonly deps: EngineDeps) {
    this.directory = new SiteDirectory(deps.identity);
    this.core = new EngineCore(deps);
    this.opener = new UpdateOpener({
      store: deps.store,
      identity: deps.identity,
      maxConcurrent: deps.maxConcurrentUploads ?? 4,
      maxUpdateBytes: deps.maxUpdateBytes ?? 64 * 1024 * 1024,
      metrics: this.core.metrics,
    });
    this.secagg = new SecureAggregation(this.core, this.opener, this.directory);
    // Who owns what: the scheduler the timers and serial sections, the accumulator cache the in-progress aggregates,
    // the driver gate which federations this replica drives, this engine whether it is stopped; which rounds are
    // closed is read from the store. The parts call each other through these lambdas.
    this.scheduler = new RoundScheduler({
      logger: this.core.logger,
      metrics: this.core.metrics,
      retryDelayMs: deps.retryDelayMs ?? 5000,
      recover: (fid) => this.catchUp.resume(fid, { grace: true }),
      drives: (fid) => this.core.drives(fid),
      leaseLost: (fid) => (deps.driver ? deps.driver.lost(fid) : this.release(fid)),
    });
    this.publishing = new Publishing(this.core);
    const deadlines = new Deadlines(this.core, this.scheduler, (fid, round, reason) =>
      this.closing.close(fid, round, reason),
    );
    this.closing = new RoundClosing({
      core: this.core,
      opener: this.opener,
      secagg: this.secagg,
      accumulators: this.accumulators,
      publishing: this.publishing,
      deadlines,
      scheduler: this.scheduler,
      openNext: (fid) => this.opening.openNext(fid),
    });
    this.opening = new RoundOpening({
      core: this.core,
      secagg: this.secagg,
      publishing: this.publishing,
      deadlines,
      stopped: () => this.stopped,
      clearTimer: (fid) => this.scheduler.clear(fid),
      baseline: () => this.baseline,
    });
    this.baseline = new BaselineFinish({
      core: this.core,
      publishing: this.publishing,
      after: (fid, delayMs, fn) => this.scheduler.after(fid, delayMs, fn),
      again: (fid) => this.opening.openNext(fid),
      end: (fid) => this.opening.end(fid, 'completed'),
    });
    this.catchUp = new CatchUp({
      core: this.core,
      secagg: this.secagg,
      deadlines,
      closing: this.closing,
      opening: this.opening,
    });
  }

  /** The coordinator's metrics the engine records into (uploads, rounds, timings). */
  get metrics() {
    return this.core.metrics;
  }

  /** Uploads waiting for a verification slot right now. */
  get queuedUploads(): number {
    return this.opener.queued;
  }

  /**
   * Creates a federation of a study (default: the default study) from a plan, publishes its signed initial version
   * (round 0) and opens round 1 — or, when the plan needs the sites' approvals, waits for them (no version, no round)
   * and does both once enough sites approved. Rejects INVALID_PLAN, then UNKNOWN_STUDY (nothing stored).
   */
  async createFederation(planInput: unknown, actor: string, studyId: string = DEFAULT_STUDY_ID): Promise<Federation> {
    const plan = validPlan(planInput);
    const id = `fed-${randomBytes(4).toString('hex')}`;
    const at = this.core.iso();
    const { store } = this.core;
    await store.createFederation(
      {
        id,
        name: plan.name,
        studyId,
        plan,
        state: 'running',
        createdAt: at,
        updatedAt: at,
        currentRound: 0,
        latestVersionId: null,
      },
      {
        at,
        actor,
        action: 'federation.create',
        subject: id,
        detail: {
          name: plan.name,
          studyId,
          strategy: plan.strategy.name,
          rounds: plan.rounds,
          planSha256: planDigest(plan),
        },
      },
    );
    this.core.crash('federation.created');
    // Nobody holds the new federation's lease yet: this replica takes it (another replica's poll would, if we died now).
    if (!this.deps.driver || (await this.deps.driver.claim(id)))
      await this.scheduler.serial(id, () => this.opening.openNext(id));
    return (await store.getFederation(id))!;
  }

  /**
   * Replaces the plan of a running federation that has not started (no round opened, no version published, no
   * statistics sent), audited with the old and new digests; every site's decision is then pending again (decisions are
   * about a plan's hash). If the new plan lets round 1 open now, it opens. INVALID_PLAN, UNKNOWN_FEDERATION,
   * FEDERATION_NOT_RUNNING or FEDERATION_STARTED otherwise.
   */
  async amendPlan(federationId: string, planInput: unknown, actor: string): Promise<Federation> {
    const { core } = this;
    await this.scheduler.serial(federationId, async () => {
      const before = await core.load(federationId);
      const plan = validPlan(planInput);
      const at = core.iso();
      const planSha256 = planDigest(plan);
      const amended = await core.store.amendFederationPlan(
        { id: federationId, name: plan.name, plan, updatedAt: at },
        {
          at,
          actor,
          action: 'federation.plan_amended',
          subject: federationId,
          detail: { previousPlanSha256: before.planSha256, planSha256 },
        },
      );
      if (amended.status === 'unknown') throw new TwinfedError('UNKNOWN_FEDERATION');
      if (amended.status === 'not-running') throw new TwinfedError('FEDERATION_NOT_RUNNING');
      if (amended.status === 'started') throw new TwinfedError('FEDERATION_STARTED');
      core.forget(federationId);
      core.logger.info({ federationId, planSha256 }, 'federation plan amended');
    });
    // Only the driving replica opens rounds; when that is another one, its next poll notices the new plan.
    if (core.drives(federationId))
      await this.scheduler.run(federationId, () => this.opening.openIfWaiting(federationId));
    return (await core.store.getFederation(federationId))!;
  }

  /**
   * A Cox federation's baseline contribution was stored: once the cohort is complete the baseline version is published
   * and the federation ends (in its serial section; another replica's driver notices it at its next poll tick).
   */
  async baselineContributed(federationId: string): Promise<void> {
    if (this.core.drives(federationId))
      await this.scheduler.run(federationId, () => this.opening.openIfWaiting(federationId));
  }

  /**
   * Records a site's decision about the federation's current plan, named by its hash (PLAN_SUPERSEDED for another
   * hash, FEDERATION_NOT_RUNNING once the federation ended), audited without names. Idempotent: the same decision
   * again changes nothing. An approval may be the one a waiting federation needs: its round then opens.
   */
  async recordDecision(o: {
    federationId: string;
    siteId: string;
    decision: PlanDecision;
    planSha256: string;
  }): Promise<SiteDecisionRecord> {
    const { core } = this;
    const { federationId, siteId, decision, planSha256 } = o;
    const { recorded, opens } = await this.scheduler.serial(federationId, async () => {
      const { federation, plan, planSha256: current } = await core.load(federationId);
      if (federation.state !== 'running') throw new TwinfedError('FEDERATION_NOT_RUNNING');
      if (planSha256 !== current)
        throw new TwinfedError(
          'PLAN_SUPERSEDED',
          `The decision is about another version of the plan (${planSha256.slice(0, 12)}…); the federation's plan is now ${current.slice(0, 12)}…: read it again and decide about it.`,
          { details: { planSha256: current } },
        );
      const at = core.iso();
      const put = await core.store.putSiteDecision(
        { federationId, siteId, planSha256, decision, decidedAt: at },
        {
          at,
          actor: `site:${siteId}`,
          action: 'site.plan_decision',
          subject: federationId,
          detail: { decision, planSha256 },
        },
      );
      if (put.status === 'recorded') core.logger.info({ federationId, siteId, decision }, 'site decision recorded');
      return {
        recorded: put.decision,
        opens: put.status === 'recorded' && decision === 'approved' && requiresApprovals(plan),
      };
    });
    if (opens && core.drives(federationId))
      await this.scheduler.run(federationId, () => this.opening.openIfWaiting(federationId));
    return recorded;
  }

  /**
   * Resumes every running federation from its stored state (after a restart or crash), for an engine without a
   * driver gate. A federation that cannot be resumed now (e.g. a store error) is retried later; it never blocks the
   * others. With a gate, {@link takeOver} resumes each federation whose lease this replica takes.
   */
  async resume(): Promise<void> {
    for (const fed of await this.core.store.listFederations()) {
      if (fed.state !== 'running') continue;
      await this.takeOver(fed.id, 'start');
    }
  }

  /** Tells the sites of a version published outside a round (a recalibrated version): `model:published`. */
  announceVersion(e: { federationId: string; round: number; versionId: string }): void {
    this.core.events.modelPublished(e);
  }

  /**
   * A federation record just read, with its validated plan, digest and the coordinator's signed statement of the plan:
   * parsed and signed once per federation (and again only when its plan changes), for views and handlers.
   */
  parsed(federation: Federation): Loaded {
    return this.core.loaded(federation);
  }

  /**
   * This replica now drives the federation: continue it from the store. At start (`start`: its own earlier lease, or
   * a free one) a collecting round gets the restart grace period; when taking over from another replica (`takeover`),
   * which kept accepting uploads, a round past its deadline closes at once.
   */
  takeOver(federationId: string, how: 'start' | 'takeover'): Promise<void> {
    return this.scheduler.run(federationId, () => this.catchUp.resume(federationId, { grace: how === 'start' }));
  }

  /** This replica no longer drives the federation: its timer is cancelled and its in-progress aggregate dropped. */
  release(federationId: string): void {
    this.scheduler.clear(federationId);
    this.accumulators.drop(federationId);
    this.catchUp.forget(federationId);
  }

  /**
   * A poll tick of a federation this replica drives: notices updates, reveals and decisions that other replicas
   * stored (see {@link CatchUp.poll}). At most one tick per federation waits in its serial section.
   */
  poll(federationId: string): void {
    if (this.stopped) return;
    const state = this.polls.get(federationId);
    if (state === 'queued') return; // the waiting tick will read what is stored now
    if (state === 'running') {
      // It may have read the store before what this call is about was stored: one more tick after it.
      this.polls.set(federationId, 'again');
      return;
    }
    if (state === 'again') return;
    this.polls.set(federationId, 'queued');
    void this.scheduler
      .run(federationId, () => {
        this.polls.set(federationId, 'running');
        return this.catchUp.poll(federationId);
      })
      .finally(() => {
        const again = this.polls.get(federationId) === 'again';
        this.polls.delete(federationId);
        if (again) this.poll(federationId);
      });
  }

  /**
   * Accepts one site's encrypted, signed update: verified and decrypted (bounded concurrency), stored
   * durably, folded into the round's aggregate, then acknowledged. Idempotent per (round, site, bytes).
   * An update for a round that already closed is refused with `ROUND_CLOSED` and counted as late.
   *
   * The store admits the update atomically only while the round is open or collecting, so concurrent uploads
   * are stored outside the federation's serial section (and share commits); closing a round first moves it
   * to `aggregating` and only then reads which updates it has, so no accepted update can miss its round.
   */
  async submitUpdate(opts: {
    federationId: string;
    round: number;
    siteId: string;
    bytes: Uint8Array;
    site?: Site;
    federation?: Federation;
  }): Promise<UploadAck> {
    const { federationId, round, siteId } = opts;
    const { core } = this;
    try {
      // The caller's records when it has them (the HTTP route: the authenticated site, the federation its membership check read).
      const loaded =
        opts.federation?.id === federationId ? core.loaded(opts.federation) : await core.load(federationId);
      const site = opts.site?.id === siteId ? opts.site : undefined;
      const parsed = this.opener.parse(opts);
      checkExampleClaim({ header: parsed.header, plan: loaded.plan });
      const ack = (status: UploadAck['status'], receivedAt: string): UploadAck => {
        core.metrics.upload(status === 'accepted' ? 'accepted' : 'duplicate');
        return { federationId, round, siteId, digest: parsed.digest, status, receivedAt };
      };
      const earlier = await this.earlierUpload(opts, parsed.digest);
      if (earlier) return ack('duplicate', earlier);
      // The one read of the round: its selection and base version never change, and once the store has admitted the
      // update (atomically, only while the round accepts), only this engine's closing can move it on (see below).
      const target = this.accepts(await core.store.getRound(federationId, round), siteId, parsed);
      const secure = loaded.plan.privacy.secureAggregation;
      if (secure !== (parsed.header.secagg !== undefined)) {
        throw new TwinfedError(
          'INVALID_ENVELOPE',
          secure
            ? 'This federation takes only masked updates (secure aggregation).'
            : 'This federation does not use secure aggregation: send weights.',
        );
      }
      // Checked before any cryptography; stored in the update's own write, so an acknowledged update has it.
      const evaluation = carriedEvaluation(parsed.header, loaded.plan);
      let opened: OpenedUpdate | undefined;
      if (secure) {
        checkMaskedHeader(parsed.header);
        await this.secagg.acceptsMasked(loaded, target, siteId);
        await this.opener.decryptMasked(
          parsed,
          secaggVectorLength(layoutSize(layoutOf(loaded.plan.model)), {
            distributedDp: loaded.plan.privacy.dp !== undefined,
          }),
          site,
        ); // verified and well-formed; the mask hides the rest
      } else {
        opened = await this.opener.decrypt(parsed, layoutOf(loaded.plan.model), site);
      }
      core.crash('upload.verified');
      const receivedAt = core.iso();
      const putting = core.store.putUpdate(
        {
          federationId,
          round,
          siteId,
          digest: parsed.digest,
          envelope: opts.bytes,
          numExamples: parsed.header.numExamples,
          metrics: parsed.header.metrics,
          receivedAt,
        },
        {
          acceptStates: ['open', 'collecting'],
          ...(evaluation ? { evaluation: { ...evaluation, createdAt: receivedAt } } : {}),
        },
      );
      // In memory for the round's aggregate as soon as it is stored (a close before this upload's turn below uses it).
      if (opened && core.drives(federationId))
        this.accumulators.received(
          federationId,
          round,
          toResult(opened),
          putting.then((p) => p.status === 'inserted'),
        );
      const put = await putting;
      if (put.status === 'conflict') throw new TwinfedError('UPDATE_CONFLICT');
      if (put.status === 'round-closed') {
        this.accepts(await core.store.getRound(federationId, round), siteId, parsed);
        throw new TwinfedError('ROUND_CLOSED');
      }
      if (put.status === 'duplicate') return ack('duplicate', put.existing?.receivedAt ?? receivedAt);
      core.crash('upload.stored');
      // Stored: the driving replica takes it from here. When that is another replica, it is nudged (through Redis) and
      // its catch-up poll notices it at once, or on its next tick without Redis.
      if (!core.drives(federationId)) {
        this.deps.nudgeDriver?.(federationId);
        return ack('accepted', receivedAt);
      }
      await this.scheduler.run(federationId, async () => {
        // Read from the store, not remembered: another replica may have driven the round since (closed it, or moved it on).
        const now = await core.store.getRound(federationId, round);
        if (!now || (now.state !== 'open' && now.state !== 'collecting')) return; // closed since: the update is in it
        if (now.state === 'open')
          await core.store.transitionRound({
            federationId,
            round,
            from: ['open'],
            to: 'collecting',
            fence: core.fence(federationId),
          });
        if (opened) {
          const result = toResult(opened);
          if (!this.accumulators.add(federationId, round, result)) {
            this.accumulators.offer({
              federationId,
              strategy: loaded.strategy,
              ctx: await core.context(loaded, target),
              selected: target.selectedSiteIds,
              result,
            });
          }
        }
        const closeAt = opened ? closeTarget(loaded.plan, target) : await this.secagg.closeTarget(loaded, target);
        if (closeAt > 0 && (await core.store.countUpdates(federationId, round)) >= closeAt) {
          await this.closing.close(federationId, round, 'enough sites answered');
        }
      }); // durable already: ack (a failure here is retried from the stored state)
      return ack('accepted', receivedAt);
    } catch (err) {
      if (!(err instanceof TwinfedError)) core.metrics.rejected('INTERNAL');
      else if (err.code !== 'ROUND_CLOSED') core.metrics.rejected(err.code);
      throw err;
    }
  }

  /** What a site should do now in a federation (`federation`: the record the caller has just read, if any). */
  async currentRoundFor(federationId: string, siteId: string, federation?: Federation): Promise<CurrentRound> {
    const loaded = federation?.id === federationId ? this.core.loaded(federation) : await this.core.load(federationId);
    const { plan } = loaded;
    const current = loaded.federation.currentRound;
    const round = current > 0 ? await this.core.store.getRound(federationId, current) : null;
    // From the store: any replica may have stored the site's update.
    const [received, submitted] = round
      ? await Promise.all([
          this.core.store.countUpdates(federationId, round.round),
          this.core.store.hasUpdate(federationId, round.round, siteId),
        ])
      : [0, false];
    const selected = round ? round.selectedSiteIds.includes(siteId) : false;
    return {
      federation: siteFederationView(loaded.federation, loaded),
      round: round ? roundView(round, received, { siteId, plan }) : null,
      selected,
      submitted,
      clientConfig: round && selected ? round.clientConfig : {},
    };
  }

  /** Secure aggregation (site): where the round stands and what this site needs next. */
  async secaggState(
    o: SecureRoundRequest & { view?: SecaggStateView; have?: ReadonlySet<SecaggStateSection> },
  ): Promise<SecaggState> {
    const { loaded, round } = await this.secureRound(o);
    return this.secagg.state(loaded, round, o.siteId, o.view ?? 'full', o.have);
  }

  /** Secure aggregation (site), step 1: its mask public key and share boxes. */
  async secaggShares(o: SecureRoundRequest & { body: SecaggShares }): Promise<SecaggAck> {
    const { loaded, round } = await this.secureRound(o);
    return this.secagg.submitShares(loaded, round, o.siteId, o.body);
  }

  /** Secure aggregation (site), step 3: its signature over the round as it saw it (U3 announced). */
  async secaggConsistency(o: SecureRoundRequest & { body: SecaggConsistency }): Promise<SecaggAck> {
    const { loaded, round } = await this.secureRound(o);
    return this.secagg.submitConsistency(loaded, round, o.siteId, o.body);
  }

  /** Secure aggregation (site), step 4: its reveal; the round is unmasked as soon as enough have arrived. */
  async secaggReveal(o: SecureRoundRequest & { body: SecaggReveal }): Promise<SecaggAck> {
    const { loaded, round } = await this.secureRound(o);
    const ack = await this.secagg.submitReveal(loaded, round, o.siteId, o.body);
    if (ack.status === 'accepted' && this.core.drives(o.federationId)) {
      await this.scheduler.run(o.federationId, () => this.closing.close(o.federationId, o.round, 'reveals arrived'));
    }
    return ack;
  }

  private async secureRound(o: SecureRoundRequest) {
    const loaded =
      o.federation?.id === o.federationId ? this.core.loaded(o.federation) : await this.core.load(o.federationId);
    if (!loaded.plan.privacy.secureAggregation)
      throw new TwinfedError('NOT_FOUND', 'This federation does not use secure aggregation.');
    const round = await this.core.store.getRound(o.federationId, o.round);
    if (!round) throw new TwinfedError('UNKNOWN_ROUND');
    return { loaded, round };
  }

  /** Stops timers and the opening of new rounds; in-flight work finishes on its own (see {@link drain}). */
  close(): void {
    this.stopped = true;
    this.scheduler.close();
  }

  /** Resolves once every round transition and upload started so far has settled. */
  drain(): Promise<void> {
    return this.scheduler.drain();
  }

  /**
   * Checks that the round accepts this site's update now. A refusal because the round closed is counted
   * as a late upload of that round (when the site was selected for it) and says when and why it closed.
   */
  private accepts(round: Round | null, siteId: string, parsed: ReceivedUpdate): Round {
    try {
      return checkRoundAccepts({ round, siteId, baseVersionId: parsed.header.baseVersionId });
    } catch (err) {
      if (err instanceof TwinfedError && err.code === 'ROUND_CLOSED' && round) {
        if (round.selectedSiteIds.includes(siteId)) this.core.metrics.late();
        this.core.logger.info(
          { federationId: round.federationId, round: round.round, siteId, state: round.state },
          'late update refused',
        );
        const why = round.failureReason ? `failed: ${round.failureReason}` : round.state;
        throw new TwinfedError(
          'ROUND_CLOSED',
          `Round ${round.round} closed${round.closedAt ? ` at ${round.closedAt}` : ''} (${why}) before this update arrived.`,
          {
            details: { round: round.round, state: round.state, closedAt: round.closedAt, deadlineAt: round.deadlineAt },
          },
        );
      }
      throw err;
    }
  }

  /** The receipt time of this site's stored update for the round if it has the same digest; CONFLICT if another. */
  private async earlierUpload(
    opts: { federationId: string; round: number; siteId: string },
    digest: string,
  ): Promise<string | null> {
    const stored = await this.core.store.getUpdate(opts.federationId, opts.round, opts.siteId);
    if (!stored) return null;
    if (stored.digest !== digest) throw new TwinfedError('UPDATE_CONFLICT');
    return stored.receivedAt;
  }
}

/** The validated plan (defaults filled in), or INVALID_PLAN with every issue and its path. */
function validPlan(planInput: unknown): Plan {
  const parsed = PlanSchema.safeParse(planInput);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new TwinfedError('INVALID_PLAN', undefined, { details });
  }
  return parsed.data;
}
