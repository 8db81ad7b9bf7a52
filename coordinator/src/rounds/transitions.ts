import { dpMechanism, initialWeights, layoutOf, type DpMechanism, type Plan } from '@twinfed/shared';
import type { Round } from '../store';
import { isDeltaStrategy, type Strategy } from '../strategies';
import { buildVersion, type BuiltVersion } from '../registry/registry';
import { auditHeadSigner } from '../audit/head-signer';
import { eligibleSites } from './attendance';
import { closeTarget, dpEpsilonAfter, type EngineCore, type Loaded } from './core';
import { releasedRoundFacts } from './dp-release';
import { toResult, trainingMetrics } from './results';
import { secaggDeadlines, type SecureAggregation, type Unmasked } from './secagg';
import type { UpdateOpener } from './update-opener';

/** A signed version ready to publish, with the strategy state that goes with it. */
type Aggregated = BuiltVersion & { strategyState: Uint8Array; data: Float32Array };

/**
 * The round state machine's transitions: open → collecting → aggregating → published | failed. Every method
 * must run inside the federation's serial section ({@link EngineCore.serial}); each transition is persisted
 * before it is announced, and each is safe to repeat from whatever state a crash left in the store.
 */
export class RoundTransitions {
  constructor(
    private readonly core: EngineCore,
    private readonly opener: UpdateOpener,
    private readonly secagg: SecureAggregation,
  ) {}

  /** Publishes the signed initial version (round 0) of a federation that has none. */
  async publishInitial(loaded: Loaded): Promise<void> {
    const { federation, plan, strategy } = loaded;
    const weights = initialWeights(plan.model, plan.seed);
    const built = buildVersion(
      { federationId: federation.id, parentVersionId: null, round: 0, strategy: plan.strategy.name, weights, contributors: [], metrics: {}, ...dpFields(plan, 0), plan, createdAt: this.core.iso() },
      this.core.deps.identity,
    );
    await this.core.store.publishVersion({
      version: built.version,
      weights: built.weights,
      strategyState: strategy.encodeState(strategy.initialState(weights.data.length)),
      federationPatch: { latestVersionId: built.version.id },
      ...this.publishAudit(built),
    });
  }

  /**
   * Continues a federation from its stored state: publishes a missing initial version, repairs the
   * current-round pointer, re-aggregates an interrupted aggregation, closes a round that already has its
   * updates, or re-arms the deadline (with a grace period for sites that were retrying while we were down).
   */
  async resume(federationId: string): Promise<void> {
    let loaded = await this.core.load(federationId);
    if (loaded.federation.state !== 'running') return;
    if (loaded.federation.latestVersionId === null) {
      await this.publishInitial(loaded);
      loaded = await this.core.load(federationId);
    }
    const { federation, plan } = loaded;
    const next = await this.core.store.getRound(federationId, federation.currentRound + 1);
    if (next) await this.core.store.updateFederation(federationId, { currentRound: next.round, updatedAt: this.core.iso() });
    const round = await this.core.store.getRound(federationId, next ? next.round : federation.currentRound);
    if (!round || round.state === 'published' || round.state === 'failed') return this.openNext(federationId);
    if (round.state === 'aggregating') {
      if (plan.privacy.secureAggregation) await this.withUnmaskGrace(plan, round);
      return this.close(federationId, round.round, 'resumed after restart');
    }
    const target = plan.privacy.secureAggregation ? await this.secagg.closeTarget(loaded, round) : closeTarget(plan, round);
    const count = await this.core.store.countUpdates(federationId, round.round);
    if (target > 0 && count >= target) return this.close(federationId, round.round, 'enough sites answered');
    this.arm(await this.withGrace(plan, round));
  }

  /** Opens the federation's next round (or ends the federation when its rounds are done or keep failing). */
  async openNext(federationId: string): Promise<void> {
    const { core } = this;
    const { federation, plan, strategy } = await core.load(federationId);
    if (federation.state !== 'running' || core.closed) return;
    const rounds = await core.store.listRounds(federationId);
    const published = rounds.filter((r) => r.state === 'published').length;
    if (published >= plan.rounds) return this.end(federationId, 'completed');
    let failedInRow = 0;
    for (let i = rounds.length - 1; i >= 0 && rounds[i]!.state === 'failed'; i--) failedInRow++;
    if (failedInRow >= plan.maxConsecutiveFailedRounds) return this.end(federationId, 'failed');

    const roundNo = federation.currentRound + 1;
    let round = await core.store.getRound(federationId, roundNo);
    if (!round) {
      round = await this.createRound({ federationId, roundNo, plan, strategy, rounds, baseVersionId: federation.latestVersionId! });
      core.crash('round.created');
    }
    await core.store.updateFederation(federationId, { currentRound: roundNo, updatedAt: core.iso() });
    core.crash('round.opened');
    core.logger.info({ federationId, round: roundNo, selected: round.selectedSiteIds.length }, 'round opened');
    this.arm(round);
    core.events.roundOpened({ federationId, round: roundNo, baseVersionId: round.baseVersionId, deadlineAt: round.deadlineAt });
  }

  /**
   * Closes a round: moves it to `aggregating` (from then on the store admits no update for it), then fails
   * it when fewer than `minSites` answered, otherwise aggregates in sorted site order and publishes
   * atomically; then opens the next round. An aggregation the strategy refuses fails the round with the
   * reason; a store error propagates (the caller retries later).
   */
  async close(federationId: string, roundNo: number, reason: string): Promise<void> {
    const { core } = this;
    const loaded = await core.load(federationId);
    const round = await core.store.getRound(federationId, roundNo);
    if (!round || (round.state !== 'open' && round.state !== 'collecting' && round.state !== 'aggregating')) return;
    core.timers.clear(federationId);
    if (round.state !== 'aggregating') {
      const audit = { at: core.iso(), actor: 'system', action: 'round.close', subject: `${federationId}/${roundNo}`, detail: { federationId, round: roundNo, reason } };
      if (!(await core.store.transitionRound({ federationId, round: roundNo, from: ['open', 'collecting'], to: 'aggregating', audit }))) return;
      core.crash('round.aggregating');
    }
    const answered = (await core.store.listUpdateHeaders(federationId, roundNo)).map((u) => u.siteId);
    if (answered.length < loaded.plan.minSites) {
      const why = `${reason}: ${answered.length} of ${round.selectedSiteIds.length} selected sites answered, minSites is ${loaded.plan.minSites}`;
      return this.fail({ round, from: ['aggregating'], reason: why });
    }
    if (loaded.plan.privacy.secureAggregation) return this.closeSecure(loaded, round, reason);
    let built: Aggregated;
    try {
      built = await this.aggregate(loaded, round, answered);
    } catch (err) {
      core.accumulators.drop(federationId);
      core.logger.error({ err, federationId, round: roundNo }, 'aggregation failed');
      const code = (err as { code?: unknown }).code;
      return this.fail({ round, from: ['aggregating'], reason: `aggregation failed (${typeof code === 'string' ? code : 'INTERNAL'}): ${(err as Error).message}` });
    }
    await this.publish(loaded, round, built);
    return this.openNext(federationId);
  }

  /**
   * The end of a secure-aggregation round (already `aggregating`, so no more masked updates): waits for t reveals
   * (re-entered on each reveal and at the unmasking deadline), then publishes the strategy's step from the unmasked
   * mean. Fails the round when unmasking is impossible or the deadline passes first.
   */
  private async closeSecure(loaded: Loaded, round: Round, reason: string): Promise<void> {
    const { core } = this;
    const federationId = loaded.federation.id;
    const ctx = await core.context(loaded, round);
    let outcome: Unmasked;
    try {
      outcome = await this.secagg.unmask(loaded, round, ctx.global);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return this.fail({ round, from: ['aggregating'], reason: `secure aggregation failed (${typeof code === 'string' ? code : 'INTERNAL'}): ${(err as Error).message}` });
    }
    if (outcome.status === 'pending') {
      if (core.now() >= outcome.unmaskAt) {
        return this.fail({ round, from: ['aggregating'], reason: `${reason}: ${outcome.revealed} of the ${outcome.threshold} reveals secure aggregation needs arrived before the unmasking deadline` });
      }
      core.timers.set(federationId, outcome.unmaskAt - core.now(), () => {
        core.serial(federationId, () => this.close(federationId, round.round, 'unmasking deadline reached')).catch((err: unknown) => this.retryLater(federationId, err));
      });
      return;
    }
    const { strategy, plan } = loaded;
    if (!isDeltaStrategy(strategy)) return this.fail({ round, from: ['aggregating'], reason: `${strategy.name} cannot aggregate a secure sum` });
    const out = strategy.step(ctx, outcome.mean);
    const layout = layoutOf(plan.model);
    // Distributed DP: one more Skellam release; the version carries ε and no per-site fact (releasedRoundFacts).
    const releases = plan.privacy.dp ? (await this.dpRoundsOf(round.baseVersionId)) + 1 : 0;
    const dp = dpFields(plan, releases);
    const released = releasedRoundFacts(plan, { metrics: { ...out.metrics, ...(dp.dpEpsilon === undefined ? {} : { dpRounds: releases }) }, contributors: outcome.contributors });
    const built = buildVersion(
      {
        federationId, parentVersionId: round.baseVersionId, round: round.round, strategy: plan.strategy.name, weights: { layout, data: out.weights },
        ...released, ...dp, plan, createdAt: core.iso(),
      },
      core.deps.identity,
    );
    await this.publish(loaded, round, { ...built, strategyState: strategy.encodeState(out.state), data: out.weights });
    return this.openNext(federationId);
  }

  /** Re-arms a round's deadline; at the deadline the round closes (serially). */
  arm(round: Round): void {
    const { core } = this;
    core.timers.set(round.federationId, Date.parse(round.deadlineAt) - core.now(), () => {
      core.serial(round.federationId, () => this.close(round.federationId, round.round, 'deadline reached')).catch((err: unknown) => this.retryLater(round.federationId, err));
    });
  }

  /** After an error, tries the federation again from its stored state a little later (never hangs). */
  retryLater(federationId: string, err: unknown): void {
    const { core } = this;
    core.metrics.recoveries++;
    core.logger.error({ err, federationId }, 'round transition failed; retrying from the stored state');
    core.timers.set(federationId, core.deps.retryDelayMs ?? 5000, () => {
      core.serial(federationId, () => this.resume(federationId)).catch((e: unknown) => this.retryLater(federationId, e));
    });
  }

  private async createRound(o: { federationId: string; roundNo: number; plan: Plan; strategy: Strategy; rounds: Round[]; baseVersionId: string }): Promise<Round> {
    const { core } = this;
    const global = await core.global(o.baseVersionId);
    const state = await core.strategyState(o.federationId, o.strategy, global.data.length);
    const { available, skipped } = await eligibleSites({
      store: core.store, rounds: o.rounds, maxMissedRounds: o.plan.maxMissedRounds, minSites: o.plan.minSites,
      ...(core.deps.lastSeen ? { lastSeen: core.deps.lastSeen } : {}),
    });
    if (skipped.length > 0) core.logger.info({ federationId: o.federationId, round: o.roundNo, skipped }, 'skipping sites that missed rounds and have not been seen since');
    // Too few sites: the round still opens with those there are and fails at its deadline (never wait forever).
    const { selected, clientConfig } = available.length === 0
      ? { selected: [], clientConfig: {} }
      : o.strategy.configureRound({
          round: o.roundNo, global: global.data, state, seed: o.plan.seed, available,
          minSites: Math.min(o.plan.minSites, available.length), ...(o.plan.sitesPerRound ? { sitesPerRound: o.plan.sitesPerRound } : {}),
        });
    const openedAt = core.now();
    const deadlineAt = new Date(openedAt + o.plan.roundDeadlineSeconds * 1000).toISOString();
    return core.store.createRound(
      {
        federationId: o.federationId, round: o.roundNo, state: 'open', baseVersionId: o.baseVersionId, selectedSiteIds: selected, clientConfig,
        openedAt: new Date(openedAt).toISOString(), deadlineAt,
      },
      {
        at: new Date(openedAt).toISOString(), actor: 'system', action: 'round.open', subject: `${o.federationId}/${o.roundNo}`,
        detail: { federationId: o.federationId, round: o.roundNo, baseVersionId: o.baseVersionId, selectedSiteIds: selected, deadlineAt },
      },
    );
  }

  /** The DP releases behind a version (its signed `metrics.dpRounds`; 0 for the initial version). */
  private async dpRoundsOf(versionId: string): Promise<number> {
    const version = await this.core.store.getVersion(versionId);
    const n = (version?.meta.metrics as Record<string, unknown> | undefined)?.dpRounds;
    return typeof n === 'number' ? n : 0;
  }

  /**
   * A resumed secure round waiting for reveals gets the same grace as a resumed collecting round: its deadline is
   * moved (persisted) so that the unmasking deadline (deadline + half the round) is at least the grace period away.
   */
  private async withUnmaskGrace(plan: Plan, round: Round): Promise<void> {
    const { core } = this;
    const grace = Math.min(core.deps.resumeGraceMs ?? 30_000, plan.roundDeadlineSeconds * 1000);
    const earliest = core.now() + grace;
    if (secaggDeadlines(round).unmaskAt >= earliest) return;
    // unmaskAt = deadline + (deadline − openedAt) / 2  ⇒  deadline = (2 · unmaskAt + openedAt) / 3
    const deadlineAt = new Date(Math.ceil((2 * earliest + Date.parse(round.openedAt)) / 3)).toISOString();
    await core.store.transitionRound({ federationId: round.federationId, round: round.round, from: ['aggregating'], to: 'aggregating', patch: { deadlineAt } });
    core.logger.info({ federationId: round.federationId, round: round.round, deadlineAt }, 'resumed secure round: unmasking deadline extended for sites that were waiting');
  }

  /** Persists a later deadline when a resumed round has less than its grace period left. */
  private async withGrace(plan: Plan, round: Round): Promise<Round> {
    const { core } = this;
    const grace = Math.min(core.deps.resumeGraceMs ?? 30_000, plan.roundDeadlineSeconds * 1000);
    const earliest = core.now() + grace;
    if (Date.parse(round.deadlineAt) >= earliest) return round;
    const deadlineAt = new Date(earliest).toISOString();
    const moved = await core.store.transitionRound({ federationId: round.federationId, round: round.round, from: [round.state], to: round.state, patch: { deadlineAt } });
    core.logger.info({ federationId: round.federationId, round: round.round, deadlineAt }, 'resumed round: deadline extended for sites that were retrying');
    return moved ?? round;
  }

  private async aggregate(loaded: Loaded, round: Round, answered: string[]): Promise<Aggregated> {
    const { core } = this;
    const { federation, plan, strategy } = loaded;
    const ctx = await core.context(loaded, round);
    const layout = layoutOf(plan.model);
    const acc = await core.accumulators.finish({
      federationId: federation.id, strategy, ctx, selected: round.selectedSiteIds, answered,
      load: async (siteId) => toResult(await this.opener.openStored({ federationId: federation.id, round: round.round, siteId, layout })),
    });
    const failures = round.selectedSiteIds.filter((s) => !answered.includes(s)).map((siteId) => ({ siteId, reason: 'no update before the round closed' }));
    const out = strategy.aggregate(ctx, acc, failures);
    const updates = await core.store.listUpdateHeaders(federation.id, round.round);
    // Contributors are the sites whose updates the strategy kept (Krum keeps a subset), with their example counts.
    const kept = new Set(out.contributors);
    const contributors = updates.filter((u) => kept.has(u.siteId)).map((u) => ({ siteId: u.siteId, numExamples: u.numExamples })).sort((a, b) => (a.siteId < b.siteId ? -1 : 1));
    // Every published round of a DP federation is one more Gaussian release: one more than the base version had.
    const releases = plan.privacy.dp ? (await this.dpRoundsOf(round.baseVersionId)) + 1 : 0;
    const dp = dpFields(plan, releases);
    const released = releasedRoundFacts(plan, {
      metrics: { ...out.metrics, ...trainingMetrics(updates), ...(dp.dpEpsilon === undefined ? {} : { dpRounds: releases }) },
      contributors,
    });
    const built = buildVersion(
      {
        federationId: federation.id, parentVersionId: round.baseVersionId, round: round.round, strategy: plan.strategy.name, weights: { layout, data: out.weights },
        ...released, ...dp, plan, createdAt: core.iso(),
      },
      core.deps.identity,
    );
    return { ...built, strategyState: strategy.encodeState(out.state), data: out.weights };
  }

  /** One transaction: version + weights + strategy state + round CAS aggregating → published + federation head. */
  private async publish(loaded: Loaded, round: Round, built: Aggregated): Promise<void> {
    const { core } = this;
    const federationId = loaded.federation.id;
    const published = await core.store.publishVersion({
      version: built.version, weights: built.weights, strategyState: built.strategyState,
      round: { federationId, round: round.round, from: ['aggregating'] },
      federationPatch: { latestVersionId: built.version.id, updatedAt: built.version.createdAt },
      ...this.publishAudit(built),
    });
    core.accumulators.drop(federationId);
    if (!published) return;
    core.crash('version.published');
    core.remember(built.version.id, { layout: layoutOf(loaded.plan.model), data: built.data });
    core.metrics.round('published', (Date.parse(built.version.createdAt) - Date.parse(round.openedAt)) / 1000);
    core.logger.info({ federationId, round: round.round, versionId: built.version.id, contributors: (built.version.meta.contributors as unknown[]).length }, 'model version published');
    core.events.modelPublished({ federationId, round: round.round, versionId: built.version.id });
  }

  /** The audit entry of a version publish and the signer of the chain head it ends (both inside the publish transaction). */
  private publishAudit(built: BuiltVersion) {
    const v = built.version;
    const contributors = (v.meta.contributors as Array<{ siteId: string; numExamples: number }> | undefined) ?? [];
    return {
      audit: {
        at: v.createdAt, actor: 'system', action: 'version.publish', subject: v.id,
        detail: { federationId: v.federationId, round: v.round, parentVersionId: v.parentVersionId, weightsSha256: v.weightsSha256, contributors: contributors.map((c) => c.siteId) },
      },
      signAuditHead: auditHeadSigner(this.core.deps.identity),
    };
  }

  private async fail(o: { round: Round; from: Round['state'][]; reason: string }): Promise<void> {
    const { core } = this;
    const { federationId, round } = o.round;
    const closedAt = core.iso();
    const audit = { at: closedAt, actor: 'system', action: 'round.fail', subject: `${federationId}/${round}`, detail: { federationId, round, reason: o.reason } };
    const failed = await core.store.transitionRound({ federationId, round, from: o.from, to: 'failed', patch: { closedAt, failureReason: o.reason }, audit });
    core.accumulators.drop(federationId);
    if (failed) {
      core.metrics.round('failed', (Date.parse(closedAt) - Date.parse(o.round.openedAt)) / 1000);
      core.logger.warn({ federationId, round, reason: o.reason }, 'round failed');
      core.events.roundFailed({ federationId, round, reason: o.reason });
    }
    return this.openNext(federationId);
  }

  private async end(federationId: string, state: 'completed' | 'failed'): Promise<void> {
    const { core } = this;
    await core.store.updateFederation(federationId, { state, updatedAt: core.iso() });
    core.timers.clear(federationId);
    core.logger.info({ federationId, state }, 'federation ended');
    core.events.federationEnded({ federationId, state });
  }
}

/** `dpEpsilon` and `dpMechanism` for a version after `releases` DP releases, or nothing for a federation without DP. */
function dpFields(plan: Plan, releases: number): { dpEpsilon?: number; dpMechanism?: DpMechanism } {
  const eps = dpEpsilonAfter(plan, releases);
  const mechanism = dpMechanism(plan);
  return eps === undefined || mechanism === null ? {} : { dpEpsilon: eps, dpMechanism: mechanism };
}
