/** In memory: site updates (encrypted envelopes) per round. */
import { unknownRound } from '../errors';
import { UPDATE_KEYS } from '../keys';
import type { Update, UpdateSummary } from '../records';
import type { UpdateStore } from '../types';
import { cloneRecord, compareStrings } from '../util';
import type { MemoryContext } from './context';
import { key, type MemoryState } from './state';
import { upsertEvaluation } from './versions';

const copyUpdate = (u: Update): Update => cloneRecord(u, UPDATE_KEYS);
const HEADER_KEYS = UPDATE_KEYS.filter((k): k is keyof UpdateSummary => k !== 'envelope');
const copyHeader = (u: Update): UpdateSummary => cloneRecord<UpdateSummary>(u, HEADER_KEYS);

function roundUpdates(s: MemoryState, federationId: string, round: number): Update[] {
  return [...s.updates.values()]
    .filter((u) => u.federationId === federationId && u.round === round)
    .sort((a, b) => compareStrings(a.siteId, b.siteId));
}

export function updates(x: MemoryContext): UpdateStore {
  return {
    async putUpdate(u, options) {
      const s = x.s;
      const round = s.rounds.get(key(u.federationId, u.round));
      if (!round) throw unknownRound();
      const k = key(u.federationId, u.round, u.siteId);
      const existing = s.updates.get(k);
      if (existing) {
        return { status: existing.digest === u.digest ? 'duplicate' : 'conflict', existing: copyUpdate(existing) };
      }
      if (options?.acceptStates && !options.acceptStates.includes(round.state)) return { status: 'round-closed' };
      // The evaluation first: it is the one write that can fail (an unknown version), and then nothing is written.
      if (options?.evaluation) upsertEvaluation(s, options.evaluation);
      s.updates.set(k, copyUpdate(u));
      return { status: 'inserted' };
    },

    async getUpdate(federationId, round, siteId) {
      const u = x.s.updates.get(key(federationId, round, siteId));
      return u ? copyUpdate(u) : null;
    },

    async listUpdates(federationId, round) {
      return roundUpdates(x.s, federationId, round).map(copyUpdate);
    },

    async listUpdateSummaries(federationId, round) {
      return roundUpdates(x.s, federationId, round).map(copyHeader);
    },

    async countUpdates(federationId, round) {
      return roundUpdates(x.s, federationId, round).length;
    },

    async hasUpdate(federationId, round, siteId) {
      return x.s.updates.has(key(federationId, round, siteId));
    },
  };
}
