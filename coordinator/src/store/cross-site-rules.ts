/** The rules every store applies to cross-site evaluations, in one place (each implementation calls them in its transaction). */
import { canonicalJson } from '@twinfed/shared';
import type { CrossSiteKind, CrossSiteMessageRecord, CrossSiteRecord, CrossSiteState } from './records';

/** The phase in which a kind of message is taken. */
export const CROSS_SITE_PHASE_OF: Readonly<Record<CrossSiteKind, CrossSiteState>> = {
  answer: 'models',
  result: 'evaluating',
};

/** Whether two messages carry the same payload (a duplicate) or not (a conflict). */
export function samePayload(a: CrossSiteMessageRecord, b: CrossSiteMessageRecord): boolean {
  return canonicalJson(a.payload) === canonicalJson(b.payload);
}

/** The sites whose stored answer is a model, sorted. */
export function modelSenders(answers: readonly CrossSiteMessageRecord[]): string[] {
  return answers
    .filter((a) => a.payload['status'] === 'model')
    .map((a) => a.siteId)
    .sort();
}

/** Whether two id lists hold the same ids (order ignored). */
export function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

/** The session after the models phase: participants fixed, results deadline set. */
export function fixedSession(
  s: CrossSiteRecord,
  participants: readonly string[],
  resultsDeadlineAt: string,
): CrossSiteRecord {
  return { ...s, state: 'evaluating', participants: [...participants].sort(), resultsDeadlineAt };
}
