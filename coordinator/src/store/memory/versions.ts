/** In memory: model registry (versions, weights, strategy state) and evaluations. */
import { alreadyExists, unknownFederation, unknownVersion } from '../errors';
import { EVALUATION_KEYS, VERSION_KEYS } from '../keys';
import type { Evaluation, FederationPatch, ModelVersion, NewEvaluation } from '../records';
import type { VersionStore } from '../types';
import { applyPatch, cloneBytes, cloneRecord, compareStrings } from '../util';
import { appendAudit, signHead } from './audit';
import type { MemoryContext } from './context';
import { casRound, patchFederation } from './federations';
import { checkFence } from './leases';
import { key, type MemoryState } from './state';

const copyVersion = (v: ModelVersion): ModelVersion => cloneRecord(v, VERSION_KEYS);
const copyEvaluation = (e: Evaluation): Evaluation => cloneRecord(e, EVALUATION_KEYS);

function versionEvaluations(s: MemoryState, versionId: string): Evaluation[] {
  return [...s.evaluations.values()]
    .filter((e) => e.versionId === versionId)
    .sort((a, b) => compareStrings(a.siteId, b.siteId))
    .map(copyEvaluation);
}

/** Inserts or replaces the site's evaluation of a version; UNKNOWN_MODEL_VERSION when there is no such version. */
export function upsertEvaluation(s: MemoryState, e: NewEvaluation): Evaluation {
  if (!s.versions.has(e.versionId)) throw unknownVersion();
  const stored = copyEvaluation({ ...e, calibration: e.calibration ?? null });
  s.evaluations.set(key(e.versionId, e.siteId), stored);
  return stored;
}

export function versions(x: MemoryContext): VersionStore {
  return {
    async publishVersion(input) {
      const s = x.s;
      const v = input.version;
      checkFence(s, input.fence);
      const federation = s.federations.get(v.federationId);
      if (!federation) throw unknownFederation();
      if (s.versions.has(v.id)) throw alreadyExists('Model version');
      if (input.round) {
        const current = s.rounds.get(key(input.round.federationId, input.round.round));
        const patch = { versionId: v.id, closedAt: current?.closedAt ?? v.createdAt };
        if (!casRound(s, { ...input.round, to: 'published', patch })) return null; // nothing written yet
      }
      const stored = copyVersion(v);
      s.versions.set(stored.id, stored);
      s.weights.set(stored.id, cloneBytes(input.weights));
      if (input.strategyState === null) s.strategyStates.delete(v.federationId);
      else if (input.strategyState !== undefined) s.strategyStates.set(v.federationId, cloneBytes(input.strategyState));
      patchFederation(
        s,
        federation,
        applyPatch<FederationPatch>({ latestVersionId: v.id, updatedAt: v.createdAt }, input.federationPatch),
      );
      if (input.audit) {
        const entry = appendAudit(s, input.audit);
        if (input.signAuditHead) signHead(s, entry, input.signAuditHead);
      }
      return copyVersion(stored);
    },

    async getVersion(id) {
      const v = x.s.versions.get(id);
      return v ? copyVersion(v) : null;
    },

    async getVersionWeights(id) {
      const w = x.s.weights.get(id);
      return w ? cloneBytes(w) : null;
    },

    async listVersions(filter) {
      const all = [...x.s.versions.values()];
      const fid = filter?.federationId;
      return (fid === undefined ? all : all.filter((v) => v.federationId === fid)).map(copyVersion);
    },

    async latestVersion(federationId) {
      const mine = [...x.s.versions.values()].filter((v) => v.federationId === federationId);
      const last = mine[mine.length - 1];
      return last ? copyVersion(last) : null;
    },

    async getStrategyState(federationId) {
      const state = x.s.strategyStates.get(federationId);
      return state ? cloneBytes(state) : null;
    },

    async putEvaluation(e) {
      return copyEvaluation(upsertEvaluation(x.s, e));
    },

    async listEvaluations(versionId) {
      return versionEvaluations(x.s, versionId);
    },

    async listFederationEvaluations(federationId) {
      const s = x.s;
      return [...s.versions.values()]
        .filter((v) => v.federationId === federationId)
        .flatMap((v) => versionEvaluations(s, v.id));
    },
  };
}
