import { DAY_MS, type LabelDerivation } from '@twinfed/shared';
import type { TwinCondition, TwinSnapshot } from '../twins/types';
import { conditionMatches } from './codes';

/** Options of {@link deriveLabel} and {@link deriveOutcome}. */
interface DeriveLabelOptions {
  twin: TwinSnapshot;
  rule: LabelDerivation;
  /** Snapshot time (ms since epoch). */
  at: number;
}

/** A twin's training outcome: the 0/1 label (the event indicator of a time-to-event rule) and, for one, the time. */
interface TwinOutcome {
  readonly label: 0 | 1;
  /** Time-to-event rules only: days from the snapshot to the event or to censoring (> 0). */
  readonly time?: number;
}

/** Whether a matching condition is already active at `at` (onset at or before it, or unknown; not abated by then). */
function activeAt(matching: readonly TwinCondition[], at: number): boolean {
  return matching.some((c) => (c.onset === null || c.onset <= at) && (c.abatement === null || c.abatement > at));
}

/**
 * The twin's last record: the latest time of its observations, immunizations, exposures and condition onsets and
 * abatements (consent decisions are not follow-up). −∞ for a twin without any.
 */
function lastRecordTime(twin: TwinSnapshot): number {
  let last = -Infinity;
  for (const o of twin.observations) if (o.t > last) last = o.t;
  for (const i of twin.immunizations) if (i.t > last) last = i.t;
  for (const e of twin.exposures) if (e.t > last) last = e.t;
  for (const c of twin.conditions) {
    if (c.onset !== null && c.onset > last) last = c.onset;
    if (c.abatement !== null && c.abatement > last) last = c.abatement;
  }
  return last;
}

/**
 * A twin's training outcome under the plan's rule (see `LabelDerivationSchema`), or null when the twin cannot be
 * labelled: no stored label; with `excludePrior` the outcome already active at `at`; for `time-to-event`, no record
 * after `at` (the twin was not followed up). A `time-to-event` rule gives the days from `at` to the first onset in
 * `(at, at + horizonDays]` (label 1), else to the twin's last record or the horizon, whichever is first (label 0).
 */
export function deriveOutcome(options: DeriveLabelOptions): TwinOutcome | null {
  const { twin, rule, at } = options;
  if (rule.kind === 'stored') return twin.label === 1 ? { label: 1 } : twin.label === 0 ? { label: 0 } : null;
  const matching = twin.conditions.filter((c) => conditionMatches(c, rule.conditionCodes));
  if (rule.excludePrior && activeAt(matching, at)) return null;
  const end = at + rule.horizonDays * DAY_MS;
  const onsets = matching.flatMap((c) => (c.onset !== null && c.onset > at && c.onset <= end ? [c.onset] : []));
  if (rule.kind === 'condition-onset') return { label: onsets.length > 0 ? 1 : 0 };
  if (onsets.length > 0) return { label: 1, time: (Math.min(...onsets) - at) / DAY_MS };
  const last = lastRecordTime(twin);
  if (!(last > at)) return null;
  return { label: 0, time: (Math.min(last, end) - at) / DAY_MS };
}

/**
 * A twin's 0/1 training label under the plan's rule (for `time-to-event`, the event indicator), or null when it
 * cannot be labelled (see {@link deriveOutcome}).
 */
export function deriveLabel(options: DeriveLabelOptions): 0 | 1 | null {
  return deriveOutcome(options)?.label ?? null;
}
