import type { Plan } from '@twinfed/shared';
import type { Round } from '../store';
import type { Strategy } from '../strategies';
import { eligibleSites } from './attendance';
import type { RoundClosing } from './closing';
import { closeTarget, type EngineCore } from './core';
import type { Deadlines } from './deadlines';
import type { Publishing } from './publishing';
import type { SecureAggregation } from './secagg';

/**
 * Opening rounds and continuing federations: opens the next round (or ends the federation), and resumes a federation
 * from whatever state the store holds after a restart or a failed transition. Every method runs inside the
 * federation's serial section.
 */
export class RoundOpening {
  constructor(
    private readonly o: {
      core: EngineCore;
      secagg: SecureAggregation;
      publishing: Publishing;
      deadlines: Deadlines;
      closing: RoundClosing;
      /** True once the engine is stopped: no new round opens. */
      stopped: () => boolean;
      /** Cancels the federation's pending timer (when it ends). */
      clearTimer: (federationId: string) => void;
    },
  ) {}

  /**
   * Continues a federation from its stored state: publishes a missing initial version, repairs the
   * current-round pointer, re-aggregates an interrupted aggregation, closes a round that already has its
   * updates, or re-arms the deadline (with a grace period for sites that were retrying while we were down).
   */
  async resume(federationId: string): Promise<void> {
    const { core, closing, deadlines } = this.o;
    let loaded = await core.load(federationId);
    if (loaded.federation.state !== 'running') return;
    if (loaded.federation.latestVersionId === null) {
      await this.o.publishing.publishInitial(loaded);
      loaded = await core.load(federationId);
    }
    const { federation, plan } = loaded;
    const next = await core.store.getRound(federationId, federation.currentRound + 1);
    if (next) await core.store.updateFederation(federationId, { currentRound: next.round, updatedAt: core.iso() });
    const round = await core.store.getRound(federationId, next ? next.round : federation.currentRound);
    if (!round || round.state === 'published' || round.state === 'failed') return this.openNext(federationId);
    if (round.state === 'aggregating') {
      if (plan.privacy.secureAggregation) await deadlines.withUnmaskGrace(plan, round);
      return closing.close(federationId, round.round, 'resumed after restart');
    }
    const target = plan.privacy.secureAggregation
      ? await this.o.secagg.closeTarget(loaded, round)
      : closeTarget(plan, round);
    const count = await core.store.countUpdates(federationId, round.round);
    if (target > 0 && count >= target) return closing.close(federationId, round.round, 'enough sites answered');
    deadlines.arm(await deadlines.withGrace(plan, round));
  }

  /** Opens the federation's next round (or ends the federation when its rounds are done or keep failing). */
  async openNext(federationId: string): Promise<void> {
    const { core } = this.o;
    const { federation, plan, strategy } = await core.load(federationId);
    if (federation.state !== 'running' || this.o.stopped()) return;
    const rounds = await core.store.listRounds(federationId);
    const published = rounds.filter((r) => r.state === 'published').length;
    if (published >= plan.rounds) return this.end(federationId, 'completed');
    let failedInRow = 0;
    for (let i = rounds.length - 1; i >= 0 && rounds[i]!.state === 'failed'; i--) failedInRow++;
    if (failedInRow >= plan.maxConsecutiveFailedRounds) return this.end(federationId, 'failed');

    const roundNo = federation.currentRound + 1;
    let round = await core.store.getRound(federationId, roundNo);
    if (!round) {
      round = await this.createRound({
        federationId,
        roundNo,
        plan,
        strategy,
        rounds,
        baseVersionId: federation.latestVersionId!,
      });
      core.crash('round.created');
    }
    await core.store.updateFederation(federationId, { currentRound: roundNo, updatedAt: core.iso() });
    core.crash('round.opened');
    core.logger.info({ federationId, round: roundNo, selected: round.selectedSiteIds.length }, 'round opened');
    this.o.deadlines.arm(round);
    core.events.roundOpened({
      federationId,
      round: roundNo,
      baseVersionId: round.baseVersionId,
      deadlineAt: round.deadlineAt,
    });
  }

  private async createRound(o: {
    federationId: string;
    roundNo: number;
    plan: Plan;
    strategy: Strategy;
    rounds: Round[];
    baseVersionId: string;
  }): Promise<Round> {
    const { core } = this.o;
    const global = await core.global(o.baseVersionId);
    const state = await core.strategyState(o.federationId, o.strategy, global.data.length);
    const { available, skipped } = await eligibleSites({
      store: core.store,
      rounds: o.rounds,
      maxMissedRounds: o.plan.maxMissedRounds,
      minSites: o.plan.minSites,
      ...(core.deps.lastSeen ? { lastSeen: core.deps.lastSeen } : {}),
    });
    if (skipped.length > 0)
      core.logger.info(
        { federationId: o.federationId, round: o.roundNo, skipped },
        'skipping sites that missed rounds and have not been seen since',
      );
    // Too few sites: the round still opens with those there are and fails at its deadline (never wait forever).
    const { selected, clientConfig } =
      available.length === 0
        ? { selected: [], clientConfig: {} }
        : o.strategy.configureRound({
            round: o.roundNo,
            global: global.data,
            state,
            seed: o.plan.seed,
            available,
            minSites: Math.min(o.plan.minSites, available.length),
            ...(o.plan.sitesPerRound ? { sitesPerRound: o.plan.sitesPerRound } : {}),
          });
    const openedAt = core.now();
    const deadlineAt = new Date(openedAt + o.plan.roundDeadlineSeconds * 1000).toISOString();
    return core.store.createRound(
      {
        federationId: o.federationId,
        round: o.roundNo,
        state: 'open',
        baseVersionId: o.baseVersionId,
        selectedSiteIds: selected,
        clientConfig,
        openedAt: new Date(openedAt).toISOString(),
        deadlineAt,
      },
      {
        at: new Date(openedAt).toISOString(),
        actor: 'system',
        action: 'round.open',
        subject: `${o.federationId}/${o.roundNo}`,
        detail: {
          federationId: o.federationId,
          round: o.roundNo,
          baseVersionId: o.baseVersionId,
          selectedSiteIds: selected,
          deadlineAt,
        },
      },
    );
  }

  private async end(federationId: string, state: 'completed' | 'failed'): Promise<void> {
    const { core } = this.o;
    await core.store.updateFederation(federationId, { state, updatedAt: core.iso() });
    this.o.clearTimer(federationId);
    core.logger.info({ federationId, state }, 'federation ended');
    core.events.federationEnded({ federationId, state });
  }
}
