import {
  SECURE_SUM_FRACTION_BITS,
  TwinfedError,
  ringFromBytes,
  toB64,
  type BaselineSession,
  type StatsAck,
} from '@twinfed/shared';
import type { SiteDirectory } from '../registry/site-directory';
import { assertMember, contributionAck, storeContribution, type ContributionRequest } from '../secure-sum/session';
import type { Store } from '../store';
import { baselinePhase, type BaselinePhase } from './phase-state';

async function phaseOrRefuse(store: Store, federationId: string): Promise<BaselinePhase> {
  const phase = await baselinePhase(store, federationId);
  if (!phase)
    throw new TwinfedError(
      'BAD_REQUEST',
      'This federation has no federated baseline to compute: it is not a Cox federation, or its rounds are not all published yet.',
    );
  return phase;
}

/**
 * A Cox federation's baseline secure sum as a site sees it (see `BaselineSessionSchema`). Throws UNKNOWN_FEDERATION,
 * or BAD_REQUEST before the last round is published or for another model kind.
 */
export async function baselineSession(
  store: Store,
  federationId: string,
  directory: SiteDirectory,
  now: number,
): Promise<BaselineSession> {
  const p = await phaseOrRefuse(store, federationId);
  const { sum } = p;
  const complete = p.impossible === null && sum.complete;
  const state = p.baselineVersion
    ? 'published'
    : p.federation.state !== 'running' || p.impossible !== null || (!complete && now >= p.deadlineAt)
      ? 'failed'
      : 'collecting';
  return {
    federationId,
    versionId: p.finalVersion.id,
    state,
    grid: p.grid,
    length: sum.length,
    fractionBits: SECURE_SUM_FRACTION_BITS,
    cohort: sum.cohort.map((s) => directory.entry(s)),
    contributed: sum.contributed,
    deadlineAt: new Date(p.deadlineAt).toISOString(),
    baselineVersionId: p.baselineVersion?.id ?? null,
    sum: complete ? toB64(sum.ringSum()) : null,
  };
}

/**
 * Stores a cohort member's masked baseline vector once (the same bytes again: duplicate). Throws FORBIDDEN outside
 * the cohort (the sites that contributed to the final version), BAD_REQUEST outside the phase or once it is over,
 * FEDERATION_NOT_RUNNING after the federation ended, VALIDATION_FAILED for a vector of the wrong length,
 * ALREADY_EXISTS when different bytes are already stored.
 */
export async function contributeBaseline(opts: ContributionRequest & { now: number }): Promise<StatsAck> {
  const { store, federationId, siteId, masked } = opts;
  const p = await phaseOrRefuse(store, federationId);
  const { cohort } = p.sum;
  if (p.federation.state !== 'running') throw new TwinfedError('FEDERATION_NOT_RUNNING');
  assertMember(
    cohort,
    siteId,
    "This site is not in the baseline's cohort (the sites whose updates went into the final version).",
  );
  if (p.impossible !== null) throw new TwinfedError('BAD_REQUEST', `No federated baseline: ${p.impossible}.`);
  if (opts.now >= p.deadlineAt) throw new TwinfedError('BAD_REQUEST', "The baseline's deadline has passed.");
  ringFromBytes(masked, p.sum.length);
  const status = await storeContribution({
    store,
    kind: 'baseline',
    federationId,
    siteId,
    masked,
    createdAt: new Date(opts.now).toISOString(),
    conflict: 'A different baseline contribution from this site is already stored.',
    detail: { versionId: p.finalVersion.id },
  });
  return contributionAck(store, 'baseline', { federationId, siteId, status, cohort });
}
