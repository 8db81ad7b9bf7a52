/** In memory: secure-aggregation messages (key shares, reveals) per round and site, and each round's fixed cohort. */
import { unknownRound } from '../errors';
import { SECAGG_COHORT_KEYS, SECAGG_MESSAGE_KEYS } from '../keys';
import type { PutSecaggMessageResult, SecaggCohortRecord, SecaggKind, SecaggMessageRecord } from '../records';
import { cloneRecord, compareStrings } from '../util';
import { key, type MemoryState } from './state';

const copyMessage = (m: SecaggMessageRecord): SecaggMessageRecord => cloneRecord(m, SECAGG_MESSAGE_KEYS);
const copyCohort = (c: SecaggCohortRecord): SecaggCohortRecord => cloneRecord(c, SECAGG_COHORT_KEYS);

export function putSecaggMessage(s: MemoryState, m: SecaggMessageRecord): PutSecaggMessageResult {
  if (!s.rounds.has(key(m.federationId, m.round))) throw unknownRound();
  const k = key(m.federationId, m.round, m.siteId, m.kind);
  const existing = s.secaggMessages.get(k);
  if (existing) return { status: existing.payload === m.payload ? 'duplicate' : 'conflict', existing: copyMessage(existing) };
  s.secaggMessages.set(k, copyMessage(m));
  return { status: 'accepted' };
}

export function listSecaggMessages(s: MemoryState, federationId: string, round: number, kind: SecaggKind): SecaggMessageRecord[] {
  return [...s.secaggMessages.values()]
    .filter((m) => m.federationId === federationId && m.round === round && m.kind === kind)
    .sort((a, b) => compareStrings(a.siteId, b.siteId))
    .map(copyMessage);
}

export function fixSecaggCohort(s: MemoryState, c: SecaggCohortRecord): SecaggCohortRecord {
  const k = key(c.federationId, c.round);
  if (!s.rounds.has(k)) throw unknownRound();
  let stored = s.secaggCohorts.get(k);
  if (!stored) {
    stored = copyCohort(c);
    s.secaggCohorts.set(k, stored);
  }
  return copyCohort(stored);
}

export function getSecaggCohort(s: MemoryState, federationId: string, round: number): SecaggCohortRecord | null {
  const c = s.secaggCohorts.get(key(federationId, round));
  return c ? copyCohort(c) : null;
}
