import { DAY_MS, type LabelDerivation } from '@twinfed/shared';
import type { TwinSnapshot } from '../twins/types';
import { conditionMatches } from './codes';

/** Options of {@link deriveLabel}. */
interface DeriveLabelOptions {
  twin: TwinSnapshot;
  rule: LabelDerivation;
  /** Snapshot time (ms since epoch). */
  at: number;
}

/**
 * A twin's training label under the plan's rule (see `LabelDerivationSchema`): 1, 0, or null when the twin
 * cannot be labelled (no stored label, or with `excludePrior` the outcome is already active at `at`).
 */
export function deriveLabel(options: DeriveLabelOptions): 0 | 1 | null {
  const { twin, rule, at } = options;
  if (rule.kind === 'stored') return twin.label === 1 ? 1 : twin.label === 0 ? 0 : null;
  const matching = twin.conditions.filter((c) => conditionMatches(c, rule.conditionCodes));
  if (rule.excludePrior) {
    const prior = matching.some(
      (c) => (c.onset === null || c.onset <= at) && (c.abatement === null || c.abatement > at),
    );
    if (prior) return null;
  }
  const end = at + rule.horizonDays * DAY_MS;
  return matching.some((c) => c.onset !== null && c.onset > at && c.onset <= end) ? 1 : 0;
}
