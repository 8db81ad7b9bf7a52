/** In memory: federations and rounds. */
import { DEFAULT_STUDY_ID } from '@twinfed/shared';
import { alreadyExists, unknownFederation, unknownStudy } from '../errors';
import { FEDERATION_KEYS, ROUND_KEYS } from '../keys';
import type { AmendPlanResult, Federation, FederationPatch, Round } from '../records';
import type { FederationStore, TransitionRoundInput } from '../types';
import { applyPatch, cloneRecord, sortByKeys } from '../util';
import type { MemoryContext } from './context';
import { checkFence } from './leases';
import { key, type MemoryState } from './state';

const copyFederation = (f: Federation): Federation => cloneRecord(f, FEDERATION_KEYS);
const copyRound = (r: Round): Round => cloneRecord(r, ROUND_KEYS);

/** Applies the patchable fields (updatedAt defaults to now) and stores the result. */
export function patchFederation(s: MemoryState, current: Federation, patch: FederationPatch): Federation {
  const p = applyPatch(applyPatch(current, { updatedAt: new Date().toISOString() }), patch);
  const { state, currentRound, latestVersionId, updatedAt } = p;
  const next = copyFederation({ ...current, state, currentRound, latestVersionId, updatedAt });
  s.federations.set(current.id, next);
  return copyFederation(next);
}

/** The round CAS, callable inside another write (publishVersion). */
export function casRound(s: MemoryState, input: TransitionRoundInput): Round | null {
  const k = key(input.federationId, input.round);
  const current = s.rounds.get(k);
  if (!current || !input.from.includes(current.state)) return null;
  const { closedAt, failureReason, versionId, deadlineAt, selectedSiteIds, clientConfig } = applyPatch(
    current,
    input.patch,
  );
  const next = copyRound({
    ...current,
    state: input.to,
    closedAt,
    failureReason,
    versionId,
    deadlineAt,
    selectedSiteIds,
    clientConfig,
  });
  s.rounds.set(k, next);
  return copyRound(next);
}

export function federations(x: MemoryContext): FederationStore {
  return {
    async createFederation(f, audit) {
      return x.audited(audit, (s) => {
        if (s.federations.has(f.id)) throw alreadyExists('Federation');
        const studyId = f.studyId ?? DEFAULT_STUDY_ID;
        if (!s.studies.has(studyId)) throw unknownStudy();
        const stored = copyFederation({
          id: f.id,
          name: f.name,
          studyId,
          plan: f.plan,
          state: f.state ?? 'running',
          createdAt: f.createdAt,
          updatedAt: f.updatedAt ?? f.createdAt,
          currentRound: f.currentRound ?? 0,
          latestVersionId: f.latestVersionId ?? null,
        });
        s.federations.set(stored.id, stored);
        return copyFederation(stored);
      });
    },

    async getFederation(id) {
      const f = x.s.federations.get(id);
      return f ? copyFederation(f) : null;
    },

    async listFederations() {
      return sortByKeys([...x.s.federations.values()], [(f) => f.createdAt, (f) => f.id]).map(copyFederation);
    },

    async updateFederation(id, patch, fence) {
      const s = x.s;
      checkFence(s, fence);
      const current = s.federations.get(id);
      return current ? patchFederation(s, current, patch) : null;
    },

    async amendFederationPlan(input, audit) {
      return x.audited(
        audit,
        (s): AmendPlanResult => {
          const current = s.federations.get(input.id);
          if (!current) return { status: 'unknown' };
          if (current.state !== 'running') return { status: 'not-running' };
          const started =
            current.currentRound !== 0 ||
            current.latestVersionId !== null ||
            [...s.rounds.values()].some((r) => r.federationId === input.id) ||
            [...s.statsContributions.values()].some((c) => c.federationId === input.id);
          if (started) return { status: 'started' };
          const next = copyFederation({ ...current, name: input.name, plan: input.plan, updatedAt: input.updatedAt });
          s.federations.set(input.id, next);
          return { status: 'amended', federation: copyFederation(next) };
        },
        (r) => r.status === 'amended',
      );
    },

    async createRound(r, audit, fence) {
      return x.audited(audit, (s) => {
        checkFence(s, fence);
        if (!s.federations.has(r.federationId)) throw unknownFederation();
        const k = key(r.federationId, r.round);
        if (s.rounds.has(k)) throw alreadyExists('Round');
        const stored = copyRound({
          ...r,
          state: r.state ?? 'open',
          closedAt: null,
          failureReason: null,
          versionId: null,
        });
        s.rounds.set(k, stored);
        return copyRound(stored);
      });
    },

    async getRound(federationId, round) {
      const r = x.s.rounds.get(key(federationId, round));
      return r ? copyRound(r) : null;
    },

    async listRounds(federationId) {
      return [...x.s.rounds.values()]
        .filter((r) => r.federationId === federationId)
        .sort((a, b) => a.round - b.round)
        .map(copyRound);
    },

    async transitionRound(input) {
      return x.audited(
        input.audit,
        (s) => {
          checkFence(s, input.fence);
          return casRound(s, input);
        },
        (r) => r !== null,
      );
    },
  };
}
