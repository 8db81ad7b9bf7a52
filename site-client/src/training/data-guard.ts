/**
 * The site's last check before it contributes anything to a federation: once the plan is known, its training
 * data must reach the plan's minimum size and its usable rows must hold both label classes. A refused site sends
 * nothing (no statistics, no update, no evaluation) and stops with a stable code.
 */
import { DEFAULT_MIN_EXAMPLES_PER_SITE, TwinfedError, type Plan } from '@twinfed/shared';
import type { LocalDataset } from './dataset';

function positives(y: Float32Array): number {
  let n = 0;
  for (const v of y) n += v === 1 ? 1 : 0;
  return n;
}

/** Words for how the plan labels rows: the label column, or the twin label rule. */
function labelWords(plan: Pick<Plan, 'data'>): string {
  const rule = plan.data.labelRule;
  if (!rule) return `label "${plan.data.label}"`;
  if (rule.kind === 'stored') return `label "${plan.data.label}" (the twin store's stored labels)`;
  const codes = rule.conditionCodes.map((c) => `${c.system} ${c.codes.join('/')}`).join(', ');
  if (rule.kind === 'time-to-event')
    return `label "${plan.data.label}" (days to the onset of ${codes}, followed up for ${rule.horizonDays} days; positive = an onset observed)`;
  return `label "${plan.data.label}" (condition onset of ${codes} within ${rule.horizonDays} days)`;
}

/**
 * Throws `DATA_SINGLE_CLASS` when the site's usable rows (train and test) are all positive or all negative, and
 * `DATA_TOO_FEW_ROWS` when it has fewer training rows than `plan.data.minExamplesPerSite` (default 20). A training
 * split of one class is allowed while the site as a whole has both (a small, skewed site still helps).
 */
export function assertTrainableData(plan: Pick<Plan, 'data'>, dataset: LocalDataset): void {
  const { train, test } = dataset;
  const n = train.n + test.n;
  const positive = positives(train.y) + positives(test.y);
  if (n > 0 && (positive === 0 || positive === n)) {
    throw new TwinfedError(
      'DATA_SINGLE_CLASS',
      `The local data have a single class for ${labelWords(plan)}: ${positive} positive and ${n - positive} negative usable rows. ` +
        'Training on one class teaches the federation nothing; check the label mapping (or the label rule and the snapshot time).',
      { details: { label: plan.data.label, positive, negative: n - positive } },
    );
  }
  const min = plan.data.minExamplesPerSite ?? DEFAULT_MIN_EXAMPLES_PER_SITE;
  if (train.n < min) {
    throw new TwinfedError(
      'DATA_TOO_FEW_ROWS',
      `This site has ${train.n} training rows (${test.n} more held out for evaluation); the plan's data.minExamplesPerSite is ${min}. ` +
        'Add data, lower --test-fraction, or ask the operator to lower the minimum.',
      { details: { trainRows: train.n, testRows: test.n, minExamplesPerSite: min } },
    );
  }
}
