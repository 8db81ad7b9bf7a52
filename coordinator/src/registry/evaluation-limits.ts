import { maxEvaluationExamples, TwinfedError, type EvaluationReport, type Plan } from '@twinfed/shared';
import type { NewEvaluation } from '../store';
import { assertEvaluationTaken } from '../rounds/dp-release';

/**
 * The coordinator's checks of a site's evaluation report beyond its schema, wherever it arrives (its own route, or
 * with the update of a round trained from the version): the plan takes per-site evaluations (`DP_NOT_COVERED` under
 * DP) and `n` is within the plan's bound (`VALIDATION_FAILED`, see `maxEvaluationExamples`). That the version belongs
 * to the federation and the site is a member of it is the caller's check.
 */
export function checkEvaluationReport(plan: Plan, report: EvaluationReport): void {
  assertEvaluationTaken(plan);
  const max = maxEvaluationExamples(plan);
  if (report.n > max)
    throw new TwinfedError('VALIDATION_FAILED', undefined, {
      details: [{ path: 'n', message: `at most ${max} examples per site` }],
    });
}

/** A site's checked report as the store takes it, but for its time (without calibration when the site reported none). */
export function evaluationRecord(opts: {
  versionId: string;
  siteId: string;
  report: EvaluationReport;
}): Omit<NewEvaluation, 'createdAt'> {
  const { report } = opts;
  return {
    versionId: opts.versionId,
    siteId: opts.siteId,
    n: report.n,
    metrics: report.metrics,
    ...(report.calibration ? { calibration: report.calibration } : {}),
  };
}
