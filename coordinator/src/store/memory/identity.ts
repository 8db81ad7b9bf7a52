/** In memory: API tokens, invitations and enrollment, sites, nonces. */
import { alreadyExists, keyInUse } from '../errors';
import { API_TOKEN_KEYS, INVITATION_KEYS, SITE_KEYS } from '../keys';
import type { ApiToken, Invitation, NewApiToken, NewInvitation, Site } from '../records';
import type { EnrollSiteInput, UseNonceInput } from '../types';
import { cloneRecord, sortByKeys } from '../util';
import { key, type MemoryState } from './state';

const copyToken = (t: ApiToken): ApiToken => cloneRecord(t, API_TOKEN_KEYS);
const copyInvitation = (i: Invitation): Invitation => cloneRecord(i, INVITATION_KEYS);
const copySite = (s: Site): Site => cloneRecord(s, SITE_KEYS);

export function createApiToken(s: MemoryState, t: NewApiToken): ApiToken {
  const hashTaken = [...s.tokens.values()].some((x) => x.tokenHash === t.tokenHash);
  if (s.tokens.has(t.id) || hashTaken) throw alreadyExists('API token');
  const stored = copyToken({ ...t, revokedAt: null });
  s.tokens.set(stored.id, stored);
  return copyToken(stored);
}

export function findApiTokenByHash(s: MemoryState, tokenHash: string): ApiToken | null {
  const found = [...s.tokens.values()].find((t) => t.tokenHash === tokenHash);
  return found ? copyToken(found) : null;
}

export function listApiTokens(s: MemoryState): ApiToken[] {
  return sortByKeys([...s.tokens.values()], [(t) => t.createdAt, (t) => t.id]).map(copyToken);
}

export function revokeApiToken(s: MemoryState, id: string, at: string): boolean {
  const t = s.tokens.get(id);
  if (!t || t.revokedAt !== null) return false;
  t.revokedAt = at;
  return true;
}

export function createInvitation(s: MemoryState, i: NewInvitation): Invitation {
  const hashTaken = [...s.invitations.values()].some((x) => x.tokenHash === i.tokenHash);
  if (s.invitations.has(i.id) || hashTaken) throw alreadyExists('Invitation');
  const stored = copyInvitation({ ...i, usedAt: null, siteId: null });
  s.invitations.set(stored.id, stored);
  return copyInvitation(stored);
}

export function listInvitations(s: MemoryState): Invitation[] {
  return sortByKeys([...s.invitations.values()], [(i) => i.createdAt, (i) => i.id]).map(copyInvitation);
}

export function enrollSite(s: MemoryState, input: EnrollSiteInput): Site | null {
  const { tokenHash, now, site } = input;
  const inv = [...s.invitations.values()].find((i) => i.tokenHash === tokenHash);
  if (!inv || inv.usedAt !== null || !(inv.expiresAt > now)) return null;
  if (s.sites.has(site.id)) throw alreadyExists('Site');
  for (const other of s.sites.values()) if (other.signPublicKey === site.signPublicKey || other.boxPublicKey === site.boxPublicKey) throw keyInUse();
  const stored = copySite({ ...site, revokedAt: null, lastSeenAt: null, missedRounds: 0 });
  inv.usedAt = now;
  inv.siteId = site.id;
  s.sites.set(stored.id, stored);
  return copySite(stored);
}

export function getSite(s: MemoryState, id: string): Site | null {
  const site = s.sites.get(id);
  return site ? copySite(site) : null;
}

export function listSites(s: MemoryState): Site[] {
  return sortByKeys([...s.sites.values()], [(x) => x.enrolledAt, (x) => x.id]).map(copySite);
}

export function revokeSite(s: MemoryState, id: string, at: string): Site | null {
  const site = s.sites.get(id);
  if (!site) return null;
  site.revokedAt ??= at;
  return copySite(site);
}

export function touchSite(s: MemoryState, id: string, at: string): boolean {
  const site = s.sites.get(id);
  if (site) site.lastSeenAt = at;
  return site !== undefined;
}

export function setMissedRounds(s: MemoryState, id: string, missedRounds: number): boolean {
  const site = s.sites.get(id);
  if (site) site.missedRounds = missedRounds;
  return site !== undefined;
}

export function useNonce(s: MemoryState, input: UseNonceInput): boolean {
  const k = key(input.siteId, input.nonce);
  const expiresAt = s.nonces.get(k);
  if (expiresAt !== undefined && expiresAt > input.now) return false;
  s.nonces.set(k, input.expiresAt);
  return true;
}

export function pruneNonces(s: MemoryState, now: string): number {
  let removed = 0;
  for (const [k, expiresAt] of s.nonces) {
    if (expiresAt <= now) {
      s.nonces.delete(k);
      removed++;
    }
  }
  return removed;
}
