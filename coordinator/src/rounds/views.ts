import {
  sharesContributorsWithSites,
  type CurrentRound,
  type FederationView,
  type Plan,
  type RoundView,
  type SignedPlan,
} from '@twinfed/shared';
import type { Federation, Round } from '../store';

/** A federation's plan, validated, with the coordinator's signed statement of it (see `RoundEngine.parsed`). */
interface ParsedPlan {
  plan: Plan;
  signedPlan: SignedPlan;
}

/**
 * The view of a federation, with the coordinator's signed statement of its plan (`signPlan`: federation id, plan
 * digest, creation time — fixed at creation, so the deterministic Ed25519 signature is the same at every request).
 */
export function federationView(f: Federation, parsed: ParsedPlan): FederationView {
  const { plan, signedPlan } = parsed;
  return {
    id: f.id,
    name: f.name,
    studyId: f.studyId,
    state: f.state,
    plan,
    signedPlan,
    currentRound: f.currentRound,
    latestVersionId: f.latestVersionId,
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
  };
}

/** The federation in a site's round instructions: the same view without the study (studies scope operators and researchers). */
export function siteFederationView(f: Federation, parsed: ParsedPlan): CurrentRound['federation'] {
  const { studyId: _studyId, ...view } = federationView(f, parsed);
  return view;
}

/**
 * The view of a round (`received` = updates stored so far). A site viewer sees only itself in `selectedSiteIds`
 * (and the count in `selectedCount`) unless the plan shares contributors with sites.
 */
export function roundView(r: Round, received: number, siteViewer?: { siteId: string; plan: Plan }): RoundView {
  const hide = siteViewer !== undefined && !sharesContributorsWithSites(siteViewer.plan);
  return {
    federationId: r.federationId,
    round: r.round,
    state: r.state,
    baseVersionId: r.baseVersionId,
    selectedSiteIds: hide ? r.selectedSiteIds.filter((id) => id === siteViewer.siteId) : [...r.selectedSiteIds],
    selectedCount: r.selectedSiteIds.length,
    received,
    openedAt: r.openedAt,
    deadlineAt: r.deadlineAt,
    closedAt: r.closedAt,
    failureReason: r.failureReason,
    versionId: r.versionId,
  };
}
