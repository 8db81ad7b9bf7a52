/** In memory: secure-aggregation messages (key shares, reveals) per round and site, and each round's fixed cohort. */
import { unknownRound } from '../errors';
import { SECAGG_COHORT_KEYS, SECAGG_MESSAGE_KEYS } from '../keys';
import type { SecaggCohortRecord, SecaggMessageRecord } from '../records';
import type { SecaggStore } from '../types';
import { cloneRecord, compareStrings } from '../util';
import type { MemoryContext } from './context';
import { checkFence } from './leases';
import { key } from './state';

const copyMessage = (m: SecaggMessageRecord): SecaggMessageRecord => cloneRecord(m, SECAGG_MESSAGE_KEYS);
const copyCohort = (c: SecaggCohortRecord): SecaggCohortRecord => cloneRecord(c, SECAGG_COHORT_KEYS);

export function secagg(x: MemoryContext): SecaggStore {
  return {
    async putSecaggMessage(m) {
      const s = x.s;
      if (!s.rounds.has(key(m.federationId, m.round))) throw unknownRound();
      const k = key(m.federationId, m.round, m.siteId, m.kind);
      const existing = s.secaggMessages.get(k);
      if (existing)
        return { status: existing.payload === m.payload ? 'duplicate' : 'conflict', existing: copyMessage(existing) };
      s.secaggMessages.set(k, copyMessage(m));
      return { status: 'accepted' };
    },

    async listSecaggMessages(federationId, round, kind, from) {
      const only = from && new Set(from);
      return [...x.s.secaggMessages.values()]
        .filter(
          (m) =>
            m.federationId === federationId && m.round === round && m.kind === kind && (!only || only.has(m.siteId)),
        )
        .sort((a, b) => compareStrings(a.siteId, b.siteId))
        .map(copyMessage);
    },

    async listSecaggSenders(federationId, round, kind) {
      return [...x.s.secaggMessages.values()]
        .filter((m) => m.federationId === federationId && m.round === round && m.kind === kind)
        .map((m) => m.siteId)
        .sort(compareStrings);
    },

    async countSecaggMessages(federationId, round, kind) {
      let n = 0;
      for (const m of x.s.secaggMessages.values())
        if (m.federationId === federationId && m.round === round && m.kind === kind) n++;
      return n;
    },

    async fixSecaggCohort(c, fence) {
      const s = x.s;
      checkFence(s, fence);
      const k = key(c.federationId, c.round);
      if (!s.rounds.has(k)) throw unknownRound();
      let stored = s.secaggCohorts.get(k);
      if (!stored) {
        stored = copyCohort(c);
        s.secaggCohorts.set(k, stored);
      }
      return copyCohort(stored);
    },

    async getSecaggCohort(federationId, round) {
      const c = x.s.secaggCohorts.get(key(federationId, round));
      return c ? copyCohort(c) : null;
    },
  };
}
