import { PlanSchema, type FederationView, type RoundView } from '@twinfed/shared';
import type { Federation, Round } from '../store';

/** The public view of a federation. */
export function federationView(f: Federation): FederationView {
  return {
    id: f.id,
    name: f.name,
    state: f.state,
    plan: PlanSchema.parse(f.plan),
    currentRound: f.currentRound,
    latestVersionId: f.latestVersionId,
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
  };
}

/** The public view of a round (`received` = updates stored so far). */
export function roundView(r: Round, received: number): RoundView {
  return {
    federationId: r.federationId,
    round: r.round,
    state: r.state,
    baseVersionId: r.baseVersionId,
    selectedSiteIds: [...r.selectedSiteIds],
    received,
    openedAt: r.openedAt,
    deadlineAt: r.deadlineAt,
    closedAt: r.closedAt,
    failureReason: r.failureReason,
    versionId: r.versionId,
  };
}
