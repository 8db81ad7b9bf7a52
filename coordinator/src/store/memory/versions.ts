/** In memory: model registry (versions, weights, strategy state), evaluations and the audit log. */
import { chainAuditEntry } from '@twinfed/shared';
import { alreadyExists, unknownFederation, unknownVersion } from '../errors';
import { AUDIT_KEYS, EVALUATION_KEYS, VERSION_KEYS } from '../keys';
import type { AuditEntry, AuditHead, Evaluation, FederationPatch, ModelVersion, NewAuditEntry } from '../records';
import type { AuditHeadPayload, ListAuditOptions, PublishVersionInput } from '../types';
import { applyPatch, cloneBytes, cloneRecord, compareStrings } from '../util';
import { patchFederation, transitionRound } from './federations';
import { key, type MemoryState } from './state';

const copyVersion = (v: ModelVersion): ModelVersion => cloneRecord(v, VERSION_KEYS);
const copyEvaluation = (e: Evaluation): Evaluation => cloneRecord(e, EVALUATION_KEYS);
const copyAudit = (a: AuditEntry): AuditEntry => cloneRecord(a, AUDIT_KEYS);

export function publishVersion(s: MemoryState, input: PublishVersionInput): ModelVersion | null {
  const v = input.version;
  const federation = s.federations.get(v.federationId);
  if (!federation) throw unknownFederation();
  if (s.versions.has(v.id)) throw alreadyExists('Model version');
  if (input.round) {
    const current = s.rounds.get(key(input.round.federationId, input.round.round));
    const patch = { versionId: v.id, closedAt: current?.closedAt ?? v.createdAt };
    if (!transitionRound(s, { ...input.round, to: 'published', patch })) return null; // nothing written yet
  }
  const stored = copyVersion(v);
  s.versions.set(stored.id, stored);
  s.weights.set(stored.id, cloneBytes(input.weights));
  if (input.strategyState === null) s.strategyStates.delete(v.federationId);
  else if (input.strategyState !== undefined) s.strategyStates.set(v.federationId, cloneBytes(input.strategyState));
  patchFederation(s, federation, applyPatch<FederationPatch>({ latestVersionId: v.id, updatedAt: v.createdAt }, input.federationPatch));
  return copyVersion(stored);
}

export function getVersion(s: MemoryState, id: string): ModelVersion | null {
  const v = s.versions.get(id);
  return v ? copyVersion(v) : null;
}

export function getVersionWeights(s: MemoryState, id: string): Uint8Array | null {
  const w = s.weights.get(id);
  return w ? cloneBytes(w) : null;
}

export function listVersions(s: MemoryState, filter?: { federationId?: string }): ModelVersion[] {
  const all = [...s.versions.values()];
  const fid = filter?.federationId;
  return (fid === undefined ? all : all.filter((v) => v.federationId === fid)).map(copyVersion);
}

export function latestVersion(s: MemoryState, federationId: string): ModelVersion | null {
  const mine = [...s.versions.values()].filter((v) => v.federationId === federationId);
  const last = mine[mine.length - 1];
  return last ? copyVersion(last) : null;
}

export function getStrategyState(s: MemoryState, federationId: string): Uint8Array | null {
  const state = s.strategyStates.get(federationId);
  return state ? cloneBytes(state) : null;
}

export function putEvaluation(s: MemoryState, e: Evaluation): Evaluation {
  if (!s.versions.has(e.versionId)) throw unknownVersion();
  const stored = copyEvaluation(e);
  s.evaluations.set(key(e.versionId, e.siteId), stored);
  return copyEvaluation(stored);
}

export function listEvaluations(s: MemoryState, versionId: string): Evaluation[] {
  return [...s.evaluations.values()]
    .filter((e) => e.versionId === versionId)
    .sort((a, b) => compareStrings(a.siteId, b.siteId))
    .map(copyEvaluation);
}

export function listFederationEvaluations(s: MemoryState, federationId: string): Evaluation[] {
  return [...s.versions.values()].filter((v) => v.federationId === federationId).flatMap((v) => listEvaluations(s, v.id));
}

export function appendAudit(s: MemoryState, e: NewAuditEntry): AuditEntry {
  const last = s.audit[s.audit.length - 1] ?? null;
  const chained = chainAuditEntry(last, { at: e.at, actor: e.actor, action: e.action, subject: e.subject, detail: e.detail });
  const stored = copyAudit({ ...chained, detail: e.detail });
  s.audit.push(stored);
  return copyAudit(stored);
}

/** Signs and stores the head at `entry` (right after appending it). */
export function signHead(s: MemoryState, entry: AuditEntry, sign: (h: AuditHeadPayload) => string): AuditHead {
  const payload = { seq: entry.seq, headHash: entry.hash, at: entry.at };
  const head = { ...payload, signature: sign(payload) };
  s.auditHeads.push(head);
  return { ...head };
}

export function listAuditHeads(s: MemoryState): AuditHead[] {
  return s.auditHeads.map((h) => ({ ...h }));
}

export function listAudit(s: MemoryState, options: ListAuditOptions): AuditEntry[] {
  const limit = Math.max(0, Math.floor(options.limit));
  const after = options.afterSeq ?? 0;
  const matching = s.audit.filter((a) => a.seq > after);
  if (options.order === 'desc') matching.reverse();
  return matching.slice(0, limit).map(copyAudit);
}
