import {
  SECAGG_HEADER_EXAMPLES,
  isTwinfedError,
  maxExamplesPerSite,
  TwinfedError,
  type EvaluationReport,
  type Plan,
  type UpdateHeader,
} from '@twinfed/shared';
import { checkEvaluationReport, evaluationRecord } from '../registry/evaluation-limits';
import type { NewEvaluation, Round } from '../store';

/**
 * Checks an update's plaintext header against the URL and the authenticated site, before any expensive cryptography
 * runs (its size, framing, schema and protocol are `parseUpdate`'s checks). Every rejection is a stable code; nothing is stored.
 */
export function checkUpdateHeader(opts: {
  header: UpdateHeader;
  federationId: string;
  round: number;
  siteId: string;
}): void {
  const { header } = opts;
  if (header.siteId !== opts.siteId) throw new TwinfedError('FORBIDDEN', 'The envelope names another site.');
  if (header.federationId !== opts.federationId || header.round !== opts.round) {
    throw new TwinfedError('INVALID_ENVELOPE', 'The envelope names another federation or round than the URL.');
  }
}

/** Checks that a round accepts this site's update now. */
export function checkRoundAccepts(opts: { round: Round | null; siteId: string; baseVersionId: string }): Round {
  const { round } = opts;
  if (!round) throw new TwinfedError('UNKNOWN_ROUND');
  if (round.state !== 'open' && round.state !== 'collecting') throw new TwinfedError('ROUND_CLOSED');
  if (!round.selectedSiteIds.includes(opts.siteId)) throw new TwinfedError('SITE_NOT_SELECTED');
  if (round.baseVersionId !== opts.baseVersionId) throw new TwinfedError('WRONG_BASE_VERSION');
  return round;
}

/**
 * Checks the example count an update claims: a positive integer no larger than the plan's
 * `training.maxExamplesPerSite`. The claim weights the site's update in every example-weighted mean (plain and
 * under secure aggregation alike), so an unbounded one would let a single site take the model over.
 */
export function checkExampleClaim(opts: { header: UpdateHeader; plan: Plan }): void {
  const n = opts.header.numExamples;
  const max = maxExamplesPerSite(opts.plan.training);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new TwinfedError(
      'EXAMPLES_OUT_OF_RANGE',
      `numExamples must be an integer from 1 to ${max} (training.maxExamplesPerSite).`,
    );
  }
}

/**
 * Checks that a masked (secure-aggregation) update keeps its side facts inside the masked vector: the clear header
 * carries the fixed count `SECAGG_HEADER_EXAMPLES` and no metrics. A site's own n, loss or steps in the clear would
 * undo what the masks hide, so such an update is refused (`INVALID_ENVELOPE`) and never stored.
 */
export function checkMaskedHeader(header: UpdateHeader): void {
  if (header.numExamples !== SECAGG_HEADER_EXAMPLES || Object.keys(header.metrics).length > 0) {
    throw new TwinfedError(
      'INVALID_ENVELOPE',
      `A masked update carries its example count and metrics inside the masked vector: its header has numExamples ${SECAGG_HEADER_EXAMPLES} and no metrics.`,
    );
  }
}

/**
 * The evaluation of the round's base version an update's header carries (`baseEvaluation`), as the store takes it
 * with the update; undefined when it carries none. Checked exactly as `POST /v1/models/:vid/evaluations` checks a
 * report (`checkEvaluationReport`); the version is the header's `baseVersionId`, which `checkRoundAccepts` holds to
 * the round's base, and a site selected for the round is a member. A masked update carries none: a secure round's
 * evaluations keep their own route. Every refusal is `INVALID_BASE_EVALUATION`, before anything is stored.
 */
export function carriedEvaluation(header: UpdateHeader, plan: Plan): Omit<NewEvaluation, 'createdAt'> | undefined {
  const report = header.baseEvaluation;
  if (!report) return undefined;
  if (header.secagg)
    throw new TwinfedError(
      'INVALID_BASE_EVALUATION',
      'A masked update carries no evaluation: send it with the key shares, or on its own.',
    );
  return baseEvaluationRecord(plan, { versionId: header.baseVersionId, siteId: header.siteId, report });
}

/**
 * A site's evaluation of a round's base version carried by a message of the round (an update's header, a secure
 * round's key shares), checked as `POST /v1/models/:vid/evaluations` checks one; `INVALID_BASE_EVALUATION` otherwise.
 */
export function baseEvaluationRecord(
  plan: Plan,
  o: { versionId: string; siteId: string; report: EvaluationReport },
): Omit<NewEvaluation, 'createdAt'> {
  try {
    checkEvaluationReport(plan, o.report);
  } catch (e) {
    if (!isTwinfedError(e)) throw e;
    throw new TwinfedError('INVALID_BASE_EVALUATION', e.message, { details: e.details, cause: e });
  }
  return evaluationRecord(o);
}
