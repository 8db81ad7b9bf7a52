import type { Plan } from '@twinfed/shared';
import type { Round } from '../store';
import type { Strategy } from '../strategies';
import { eligibleSites } from './attendance';
import type { EngineCore, Loaded } from './core';
import type { BaselineFinish } from './baseline';
import type { Deadlines } from './deadlines';
import { consentOf } from './governance';
import type { Publishing } from './publishing';
import type { SecureAggregation } from './secagg';

/**
 * Opening rounds: opens the next round (or ends the federation); continuing a federation from the store is
 * catch-up.ts. Every method runs inside the federation's serial section.
 */
export class RoundOpening {
  constructor(
    private readonly o: {
      core: EngineCore;
      secagg: SecureAggregation;
      publishing: Publishing;
      deadlines: Deadlines;
      /** True once the engine is stopped: no new round opens. */
      stopped: () => boolean;
      /** Cancels the federation's pending timer (when it ends). */
      clearTimer: (federationId: string) => void;
      /** A Cox federation's last step (its federated baseline), before it ends. */
      baseline: () => BaselineFinish;
    },
  ) {}

  /**
   * Opens the next round of a federation that waits for one (no round yet, or its current round is over): after a
   * site's approval or a plan amendment, which may be what it was waiting for.
   */
  async openIfWaiting(federationId: string): Promise<void> {
    const { federation } = await this.o.core.load(federationId);
    if (federation.state !== 'running') return;
    const current =
      federation.currentRound > 0 ? await this.o.core.store.getRound(federationId, federation.currentRound) : null;
    if (current && current.state !== 'published' && current.state !== 'failed') return;
    await this.openNext(federationId);
  }

  /**
   * Opens the federation's next round (or ends the federation when its rounds are done or keep failing), publishing
   * its initial version first when it has none. A federation whose plan needs the sites' approvals waits, with no
   * round and no timer, until enough of them approved the current plan (governance.ts; `openIfWaiting`).
   */
  async openNext(federationId: string): Promise<void> {
    const { core } = this.o;
    let loaded = await core.load(federationId);
    const { federation, plan, strategy } = loaded;
    if (federation.state !== 'running' || this.o.stopped()) return;
    const rounds = await core.store.listRounds(federationId);
    const published = rounds.filter((r) => r.state === 'published').length;
    if (published >= plan.rounds) {
      if (await this.o.baseline().step(loaded)) return;
      return this.end(federationId, 'completed');
    }
    let failedInRow = 0;
    for (let i = rounds.length - 1; i >= 0 && rounds[i]!.state === 'failed'; i--) failedInRow++;
    if (failedInRow >= plan.maxConsecutiveFailedRounds) return this.end(federationId, 'failed');

    const roundNo = federation.currentRound + 1;
    let round = await core.store.getRound(federationId, roundNo);
    if (!round) {
      const consent = await consentOf(core.store, loaded);
      if (consent.waiting !== null) {
        core.logger.info({ federationId, round: roundNo, waiting: consent.waiting }, 'round waits for plan approvals');
        return;
      }
      if (federation.latestVersionId === null) loaded = await this.initialVersion(loaded);
      round = await this.createRound({
        federationId,
        roundNo,
        plan,
        strategy,
        rounds,
        baseVersionId: loaded.federation.latestVersionId!,
        admits: consent.admits,
      });
      core.crash('round.created');
    }
    await core.store.updateFederation(
      federationId,
      { currentRound: roundNo, updatedAt: core.iso() },
      core.fence(federationId),
    );
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

  /** Publishes the federation's signed initial version (round 0) and returns the federation as stored now. */
  private async initialVersion(loaded: Loaded): Promise<Loaded> {
    await this.o.publishing.publishInitial(loaded);
    return this.o.core.load(loaded.federation.id);
  }

  private async createRound(o: {
    federationId: string;
    roundNo: number;
    plan: Plan;
    strategy: Strategy;
    rounds: Round[];
    baseVersionId: string;
    admits: (siteId: string) => boolean;
  }): Promise<Round> {
    const { core } = this.o;
    const global = await core.global(o.baseVersionId);
    const state = await core.strategyState(o.federationId, o.strategy, global.data.length);
    const { available, skipped } = await eligibleSites({
      store: core.store,
      rounds: o.rounds,
      maxMissedRounds: o.plan.maxMissedRounds,
      minSites: o.plan.minSites,
      admits: o.admits,
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
      core.fence(o.federationId),
    );
  }

  async end(federationId: string, state: 'completed' | 'failed'): Promise<void> {
    const { core } = this.o;
    await core.store.updateFederation(federationId, { state, updatedAt: core.iso() }, core.fence(federationId));
    this.o.clearTimer(federationId);
    core.logger.info({ federationId, state }, 'federation ended');
    core.events.federationEnded({ federationId, state });
  }
}
