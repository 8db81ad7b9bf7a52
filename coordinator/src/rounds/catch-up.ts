import { requiresApprovals } from '@twinfed/shared';
import { wantsBaseline } from '../baseline/phase-state';
import type { RoundClosing } from './closing';
import { closeTarget, type EngineCore } from './core';
import type { Deadlines } from './deadlines';
import type { RoundOpening } from './opening';
import type { SecureAggregation } from './secagg';

/**
 * Continuing a federation from what the store holds, whoever wrote it: after a restart or a failed transition
 * ({@link CatchUp.resume} with grace), when this replica takes over the federation's driver lease from another
 * ({@link CatchUp.resume} without grace: the other replicas kept accepting uploads, nobody waited for us), and on
 * every poll tick of a federation this replica drives ({@link CatchUp.poll}: updates, reveals and decisions another
 * replica stored). Every method runs inside the federation's serial section.
 */
export class CatchUp {
  /** Per federation, what the last poll saw (so a quiet federation costs a few reads per tick and nothing else). */
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly o: {
      core: EngineCore;
      secagg: SecureAggregation;
      deadlines: Deadlines;
      closing: RoundClosing;
      opening: RoundOpening;
    },
  ) {}

  /**
   * Repairs the current-round pointer, re-aggregates an interrupted aggregation from the stored updates (the version
   * id is derived from federation and round, so nothing is published twice), closes a round that already has its
   * updates or whose deadline passed, re-arms the deadline (`grace`: extended for sites that were retrying while no
   * coordinator answered), or opens the next round (publishing a missing initial version first).
   */
  async resume(federationId: string, o: { grace: boolean }): Promise<void> {
    const { core, closing, deadlines, opening } = this.o;
    if (!core.drives(federationId)) return;
    const loaded = await core.load(federationId);
    if (loaded.federation.state !== 'running') return;
    const { federation, plan } = loaded;
    const next = await core.store.getRound(federationId, federation.currentRound + 1);
    if (next)
      await core.store.updateFederation(
        federationId,
        { currentRound: next.round, updatedAt: core.iso() },
        core.fence(federationId),
      );
    const round = await core.store.getRound(federationId, next ? next.round : federation.currentRound);
    if (!round || round.state === 'published' || round.state === 'failed') return opening.openNext(federationId);
    if (round.state === 'aggregating') {
      if (plan.privacy.secureAggregation && o.grace) await deadlines.withUnmaskGrace(plan, round);
      return closing.close(federationId, round.round, o.grace ? 'resumed after restart' : 'resumed by another replica');
    }
    const target = plan.privacy.secureAggregation
      ? await this.o.secagg.closeTarget(loaded, round)
      : closeTarget(plan, round);
    const count = await core.store.countUpdates(federationId, round.round);
    if (target > 0 && count >= target) return closing.close(federationId, round.round, 'enough sites answered');
    // Without grace a round past its deadline closes at once (the timer fires now).
    deadlines.arm(o.grace ? await deadlines.withGrace(plan, round) : round);
  }

  /**
   * One poll tick of a driven federation: notices what any replica stored since the last tick — updates (the round
   * moves to collecting, and closes once it has enough), reveals of a secure round, and sites' decisions or a plan
   * amendment a waiting federation needs — and acts as the accepting replica would have if it were the driver.
   */
  async poll(federationId: string): Promise<void> {
    const { core, closing, secagg, opening } = this.o;
    if (!core.drives(federationId)) return;
    const loaded = await core.load(federationId);
    const { federation, plan, planSha256 } = loaded;
    if (federation.state !== 'running') return;
    const round = federation.currentRound > 0 ? await core.store.getRound(federationId, federation.currentRound) : null;
    if (!round || round.state === 'published' || round.state === 'failed') {
      // Waiting for a round: sites' decisions or an amended plan (stored by any replica) may be what it waits for.
      const decisions = requiresApprovals(plan) ? await core.store.listSiteDecisions(federationId) : [];
      // A Cox federation past its last round waits for baseline contributions, which another replica may have stored.
      const baseline =
        wantsBaseline(plan) && round?.state === 'published'
          ? (await core.store.listBaselineContributions(federationId)).length
          : 0;
      const seen = [
        round?.round ?? 0,
        round?.state ?? 'none',
        planSha256,
        baseline,
        ...decisions.map((d) => `${d.siteId}=${d.decision}@${d.planSha256}`),
      ].join(',');
      if (!this.changed(federationId, seen)) return;
      return opening.openIfWaiting(federationId);
    }
    if (round.state === 'aggregating') {
      if (!plan.privacy.secureAggregation) return; // being closed by this replica (or resumed at takeover)
      const reveals = await core.store.listSecaggMessages(federationId, round.round, 'reveal');
      if (!this.changed(federationId, `${round.round}:aggregating:${reveals.length}`)) return;
      return closing.close(federationId, round.round, 'reveals arrived');
    }
    const count = await core.store.countUpdates(federationId, round.round);
    if (count > 0 && round.state === 'open')
      await core.store.transitionRound({
        federationId,
        round: round.round,
        from: ['open'],
        to: 'collecting',
        fence: core.fence(federationId),
      });
    const target = plan.privacy.secureAggregation ? await secagg.closeTarget(loaded, round) : closeTarget(plan, round);
    if (target > 0 && count >= target) await closing.close(federationId, round.round, 'enough sites answered');
  }

  /** Forgets what the polls saw of a federation this replica no longer drives. */
  forget(federationId: string): void {
    this.seen.delete(federationId);
  }

  private changed(federationId: string, seen: string): boolean {
    if (this.seen.get(federationId) === seen) return false;
    this.seen.set(federationId, seen);
    return true;
  }
}
