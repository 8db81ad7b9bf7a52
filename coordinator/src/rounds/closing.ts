import { layoutOf } from '@twinfed/shared';
import type { Round, UpdateSummary } from '../store';
import { isDeltaStrategy } from '../strategies';
import type { AccumulatorCache } from './accumulators';
import type { EngineCore, Loaded } from './core';
import type { Deadlines } from './deadlines';
import type { Aggregated, Publishing } from './publishing';
import { toResult, trainingMetrics } from './results';
import type { RoundScheduler } from './scheduler';
import type { SecureAggregation, Unmasked } from './secagg';
import type { UpdateOpener } from './update-opener';

/**
 * Closing rounds: collecting → aggregating → published | failed. Every method runs inside the federation's serial
 * section; each step is persisted before it is announced and is safe to repeat from whatever state a crash left.
 * Whether a round is closed is read from the store (any replica may have closed it).
 */
export class RoundClosing {
  constructor(
    private readonly o: {
      core: EngineCore;
      opener: UpdateOpener;
      secagg: SecureAggregation;
      accumulators: AccumulatorCache;
      publishing: Publishing;
      deadlines: Deadlines;
      scheduler: RoundScheduler;
      /** Opens the federation's next round (or ends it) once a round is published or failed. */
      openNext: (federationId: string) => Promise<void>;
    },
  ) {}

  /**
   * Closes a round: moves it to `aggregating` (from then on the store admits no update for it), then fails
   * it when fewer than `minSites` answered, otherwise aggregates in sorted site order and publishes
   * atomically; then opens the next round. An aggregation the strategy refuses fails the round with the
   * reason; a store error propagates (the caller retries later).
   */
  async close(federationId: string, roundNo: number, reason: string): Promise<void> {
    const { core, scheduler } = this.o;
    const loaded = await core.load(federationId);
    const round = await core.store.getRound(federationId, roundNo);
    if (!round || (round.state !== 'open' && round.state !== 'collecting' && round.state !== 'aggregating')) return;
    scheduler.clear(federationId);
    if (round.state !== 'aggregating') {
      const audit = {
        at: core.iso(),
        actor: 'system',
        action: 'round.close',
        subject: `${federationId}/${roundNo}`,
        detail: { federationId, round: roundNo, reason },
      };
      const moved = await core.store.transitionRound({
        federationId,
        round: roundNo,
        from: ['open', 'collecting'],
        to: 'aggregating',
        audit,
        fence: core.fence(federationId),
      });
      if (!moved) return;
      core.crash('round.aggregating');
      if (loaded.plan.privacy.secureAggregation) {
        await this.maskingEnded(round);
        this.o.secagg.announce(round, 'unmasking');
      }
    }
    // A secure round is closed again on every reveal until it unmasks, and needs only how many answered: its updates
    // are counted, not read (reading 450 headers per reveal was a quarter of the coordinator's time at 500 sites).
    const secure = loaded.plan.privacy.secureAggregation;
    const updates = secure ? undefined : await core.store.listUpdateSummaries(federationId, roundNo); // once per close
    const answered = updates?.length ?? (await core.store.countUpdates(federationId, roundNo));
    if (answered < loaded.plan.minSites) {
      const why = `${reason}: ${answered} of ${round.selectedSiteIds.length} selected sites answered, minSites is ${loaded.plan.minSites}`;
      return this.fail({ round, from: ['aggregating'], reason: why });
    }
    if (!updates) return this.closeSecure(loaded, round, reason);
    let built: Aggregated;
    try {
      const timer = core.metrics.aggregationSeconds.startTimer();
      built = await this.aggregate(loaded, round, updates);
      timer();
    } catch (err) {
      this.o.accumulators.drop(federationId);
      core.logger.error({ err, federationId, round: roundNo }, 'aggregation failed');
      const code = (err as { code?: unknown }).code;
      return this.fail({
        round,
        from: ['aggregating'],
        reason: `aggregation failed (${typeof code === 'string' ? code : 'INTERNAL'}): ${(err as Error).message}`,
      });
    }
    await this.publish(loaded, round, built);
  }

  /**
   * The end of a secure-aggregation round (already `aggregating`, so no more masked updates): waits for t reveals
   * (re-entered on each reveal and at the unmasking deadline), then publishes the strategy's step from the unmasked
   * mean. Fails the round when unmasking is impossible or the deadline passes first.
   */
  private async closeSecure(loaded: Loaded, round: Round, reason: string): Promise<void> {
    const { core } = this.o;
    const ctx = await core.context(loaded, round);
    let outcome: Unmasked;
    const unmasking = process.hrtime.bigint();
    try {
      outcome = await this.o.secagg.unmask(loaded, round, ctx.global);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return this.fail({
        round,
        from: ['aggregating'],
        reason: `secure aggregation failed (${typeof code === 'string' ? code : 'INTERNAL'}): ${(err as Error).message}`,
      });
    }
    if (outcome.status === 'pending') {
      if (core.now() >= outcome.unmaskAt) {
        return this.fail({
          round,
          from: ['aggregating'],
          reason: `${reason}: ${outcome.revealed} of the ${outcome.threshold} reveals secure aggregation needs arrived before the unmasking deadline`,
        });
      }
      this.o.deadlines.armUnmask(round, outcome.unmaskAt);
      return;
    }
    core.metrics.secaggPhase('unmasking', Number(process.hrtime.bigint() - unmasking) / 1e9);
    const { strategy } = loaded;
    if (!isDeltaStrategy(strategy))
      return this.fail({ round, from: ['aggregating'], reason: `${strategy.name} cannot aggregate a secure sum` });
    const timer = core.metrics.aggregationSeconds.startTimer();
    const out = strategy.step(ctx, outcome.mean);
    const built = await this.o.publishing.buildPublishedVersion(loaded, round, {
      weights: out.weights,
      strategyState: strategy.encodeState(out.state),
      metrics: out.metrics,
      contributors: outcome.contributors,
    });
    timer();
    await this.publish(loaded, round, built);
  }

  /** Times a secure round's mask collection: from its key shares closing (U2 fixed) until now, when it stopped taking updates. */
  private async maskingEnded(round: Round): Promise<void> {
    const { core } = this.o;
    const cohort = await core.store.getSecaggCohort(round.federationId, round.round);
    if (cohort) core.metrics.secaggPhase('mask_collection', (core.now() - Date.parse(cohort.fixedAt)) / 1000);
  }

  private async aggregate(loaded: Loaded, round: Round, updates: UpdateSummary[]): Promise<Aggregated> {
    const { core, accumulators, opener } = this.o;
    const { federation, plan, strategy } = loaded;
    const answered = updates.map((u) => u.siteId);
    const ctx = await core.context(loaded, round);
    const layout = layoutOf(plan.model);
    const acc = await accumulators.finish({
      federationId: federation.id,
      strategy,
      ctx,
      selected: round.selectedSiteIds,
      answered,
      load: async (siteId) =>
        toResult(await opener.openStored({ federationId: federation.id, round: round.round, siteId, layout })),
    });
    const failures = round.selectedSiteIds
      .filter((s) => !answered.includes(s))
      .map((siteId) => ({ siteId, reason: 'no update before the round closed' }));
    const out = strategy.aggregate(ctx, acc, failures);
    // Contributors are the sites whose updates the strategy kept (Krum keeps a subset), with their example counts.
    const kept = new Set(out.contributors);
    const contributors = updates
      .filter((u) => kept.has(u.siteId))
      .map((u) => ({ siteId: u.siteId, numExamples: u.numExamples }))
      .sort((a, b) => (a.siteId < b.siteId ? -1 : 1));
    return this.o.publishing.buildPublishedVersion(loaded, round, {
      weights: out.weights,
      strategyState: strategy.encodeState(out.state),
      metrics: { ...out.metrics, ...trainingMetrics(updates) },
      contributors,
    });
  }

  /** Publishes the round's version (atomically), forgets its aggregate, then opens the next round. */
  private async publish(loaded: Loaded, round: Round, built: Aggregated): Promise<void> {
    try {
      await this.o.publishing.publish(loaded, round, built);
    } finally {
      this.o.accumulators.drop(loaded.federation.id);
    }
    return this.o.openNext(loaded.federation.id);
  }

  private async fail(o: { round: Round; from: Round['state'][]; reason: string }): Promise<void> {
    const { core } = this.o;
    const { federationId, round } = o.round;
    const closedAt = core.iso();
    const audit = {
      at: closedAt,
      actor: 'system',
      action: 'round.fail',
      subject: `${federationId}/${round}`,
      detail: { federationId, round, reason: o.reason },
    };
    const failed = await core.store.transitionRound({
      federationId,
      round,
      from: o.from,
      to: 'failed',
      patch: { closedAt, failureReason: o.reason },
      audit,
      fence: core.fence(federationId),
    });
    this.o.accumulators.drop(federationId);
    if (failed) {
      core.metrics.round('failed', (Date.parse(closedAt) - Date.parse(o.round.openedAt)) / 1000);
      core.logger.warn({ federationId, round, reason: o.reason }, 'round failed');
      core.events.roundFailed({ federationId, round, reason: o.reason });
    }
    return this.o.openNext(federationId);
  }
}
