/** In memory: federations, rounds and updates. */
import { alreadyExists, unknownFederation, unknownRound } from '../errors';
import { FEDERATION_KEYS, ROUND_KEYS, UPDATE_KEYS } from '../keys';
import type { Federation, FederationPatch, NewFederation, NewRound, PutUpdateResult, Round, Update, UpdateSummary } from '../records';
import type { PutUpdateOptions, TransitionRoundInput } from '../types';
import { applyPatch, cloneRecord, compareStrings, sortByKeys } from '../util';
import { key, type MemoryState } from './state';

const copyFederation = (f: Federation): Federation => cloneRecord(f, FEDERATION_KEYS);
const copyRound = (r: Round): Round => cloneRecord(r, ROUND_KEYS);
const copyUpdate = (u: Update): Update => cloneRecord(u, UPDATE_KEYS);
const HEADER_KEYS = UPDATE_KEYS.filter((k): k is keyof UpdateSummary => k !== 'envelope');
const copyHeader = (u: Update): UpdateSummary => cloneRecord<UpdateSummary>(u, HEADER_KEYS);

export function createFederation(s: MemoryState, f: NewFederation): Federation {
  if (s.federations.has(f.id)) throw alreadyExists('Federation');
  const stored = copyFederation({
    id: f.id,
    name: f.name,
    plan: f.plan,
    state: f.state ?? 'running',
    createdAt: f.createdAt,
    updatedAt: f.updatedAt ?? f.createdAt,
    currentRound: f.currentRound ?? 0,
    latestVersionId: f.latestVersionId ?? null,
  });
  s.federations.set(stored.id, stored);
  return copyFederation(stored);
}

export function getFederation(s: MemoryState, id: string): Federation | null {
  const f = s.federations.get(id);
  return f ? copyFederation(f) : null;
}

export function listFederations(s: MemoryState): Federation[] {
  return sortByKeys([...s.federations.values()], [(f) => f.createdAt, (f) => f.id]).map(copyFederation);
}

/** Applies the patchable fields (updatedAt defaults to now) and stores the result. */
export function patchFederation(s: MemoryState, current: Federation, patch: FederationPatch): Federation {
  const p = applyPatch(applyPatch(current, { updatedAt: new Date().toISOString() }), patch);
  const { state, currentRound, latestVersionId, updatedAt } = p;
  const next = copyFederation({ ...current, state, currentRound, latestVersionId, updatedAt });
  s.federations.set(current.id, next);
  return copyFederation(next);
}

export function updateFederation(s: MemoryState, id: string, patch: FederationPatch): Federation | null {
  const current = s.federations.get(id);
  return current ? patchFederation(s, current, patch) : null;
}

export function createRound(s: MemoryState, r: NewRound): Round {
  if (!s.federations.has(r.federationId)) throw unknownFederation();
  const k = key(r.federationId, r.round);
  if (s.rounds.has(k)) throw alreadyExists('Round');
  const stored = copyRound({ ...r, state: r.state ?? 'open', closedAt: null, failureReason: null, versionId: null });
  s.rounds.set(k, stored);
  return copyRound(stored);
}

export function getRound(s: MemoryState, federationId: string, round: number): Round | null {
  const r = s.rounds.get(key(federationId, round));
  return r ? copyRound(r) : null;
}

export function listRounds(s: MemoryState, federationId: string): Round[] {
  return [...s.rounds.values()]
    .filter((r) => r.federationId === federationId)
    .sort((a, b) => a.round - b.round)
    .map(copyRound);
}

export function transitionRound(s: MemoryState, input: TransitionRoundInput): Round | null {
  const k = key(input.federationId, input.round);
  const current = s.rounds.get(k);
  if (!current || !input.from.includes(current.state)) return null;
  const { closedAt, failureReason, versionId, deadlineAt, selectedSiteIds, clientConfig } = applyPatch(current, input.patch);
  const next = copyRound({ ...current, state: input.to, closedAt, failureReason, versionId, deadlineAt, selectedSiteIds, clientConfig });
  s.rounds.set(k, next);
  return copyRound(next);
}

export function putUpdate(s: MemoryState, u: Update, options?: PutUpdateOptions): PutUpdateResult {
  const round = s.rounds.get(key(u.federationId, u.round));
  if (!round) throw unknownRound();
  const k = key(u.federationId, u.round, u.siteId);
  const existing = s.updates.get(k);
  if (existing) {
    return { status: existing.digest === u.digest ? 'duplicate' : 'conflict', existing: copyUpdate(existing) };
  }
  if (options?.acceptStates && !options.acceptStates.includes(round.state)) return { status: 'round-closed' };
  s.updates.set(k, copyUpdate(u));
  return { status: 'inserted' };
}

export function getUpdate(s: MemoryState, federationId: string, round: number, siteId: string): Update | null {
  const u = s.updates.get(key(federationId, round, siteId));
  return u ? copyUpdate(u) : null;
}

function roundUpdates(s: MemoryState, federationId: string, round: number): Update[] {
  return [...s.updates.values()]
    .filter((u) => u.federationId === federationId && u.round === round)
    .sort((a, b) => compareStrings(a.siteId, b.siteId));
}

export function listUpdates(s: MemoryState, federationId: string, round: number): Update[] {
  return roundUpdates(s, federationId, round).map(copyUpdate);
}

export function listUpdateSummaries(s: MemoryState, federationId: string, round: number): UpdateSummary[] {
  return roundUpdates(s, federationId, round).map(copyHeader);
}

export function countUpdates(s: MemoryState, federationId: string, round: number): number {
  return roundUpdates(s, federationId, round).length;
}
