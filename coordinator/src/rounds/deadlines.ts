import type { Plan } from '@twinfed/shared';
import type { Round } from '../store';
import type { EngineCore } from './core';
import type { RoundScheduler } from './scheduler';
import { secaggDeadlines } from './secagg';

/**
 * A round's deadlines: the collection deadline (then the round closes), the unmasking deadline of a secure round
 * waiting for reveals, and the grace periods a resumed round gets for sites that were retrying while the coordinator
 * was down (persisted, so a second restart keeps them).
 */
export class Deadlines {
  constructor(
    private readonly core: EngineCore,
    private readonly scheduler: RoundScheduler,
    /** Closes a round (in its federation's serial section). */
    private readonly close: (federationId: string, roundNo: number, reason: string) => Promise<void>,
  ) {}

  /** Arms a round's deadline; at the deadline the round closes. */
  arm(round: Round): void {
    this.scheduler.after(round.federationId, Date.parse(round.deadlineAt) - this.core.now(), () =>
      this.close(round.federationId, round.round, 'deadline reached'),
    );
  }

  /** Arms a secure round's unmasking deadline; then it is closed again (and fails if the reveals are still missing). */
  armUnmask(round: Round, unmaskAt: number): void {
    this.scheduler.after(round.federationId, unmaskAt - this.core.now(), () =>
      this.close(round.federationId, round.round, 'unmasking deadline reached'),
    );
  }

  /** Persists a later deadline when a resumed round has less than its grace period left. */
  async withGrace(plan: Plan, round: Round): Promise<Round> {
    const { core } = this;
    const earliest = core.now() + this.grace(plan);
    if (Date.parse(round.deadlineAt) >= earliest) return round;
    const deadlineAt = new Date(earliest).toISOString();
    const moved = await core.store.transitionRound({
      federationId: round.federationId,
      round: round.round,
      from: [round.state],
      to: round.state,
      patch: { deadlineAt },
      fence: core.fence(round.federationId),
    });
    core.logger.info(
      { federationId: round.federationId, round: round.round, deadlineAt },
      'resumed round: deadline extended for sites that were retrying',
    );
    return moved ?? round;
  }

  /**
   * A resumed secure round waiting for reveals gets the same grace as a resumed collecting round: its deadline is
   * moved (persisted) so that the unmasking deadline (deadline + half the round) is at least the grace period away.
   */
  async withUnmaskGrace(plan: Plan, round: Round): Promise<void> {
    const { core } = this;
    const earliest = core.now() + this.grace(plan);
    if (secaggDeadlines(round).unmaskAt >= earliest) return;
    // unmaskAt = deadline + (deadline − openedAt) / 2  ⇒  deadline = (2 · unmaskAt + openedAt) / 3
    const deadlineAt = new Date(Math.ceil((2 * earliest + Date.parse(round.openedAt)) / 3)).toISOString();
    await core.store.transitionRound({
      federationId: round.federationId,
      round: round.round,
      from: ['aggregating'],
      to: 'aggregating',
      patch: { deadlineAt },
      fence: core.fence(round.federationId),
    });
    core.logger.info(
      { federationId: round.federationId, round: round.round, deadlineAt },
      'resumed secure round: unmasking deadline extended for sites that were waiting',
    );
  }

  private grace(plan: Plan): number {
    return Math.min(this.core.deps.resumeGraceMs ?? 30_000, plan.roundDeadlineSeconds * 1000);
  }
}
