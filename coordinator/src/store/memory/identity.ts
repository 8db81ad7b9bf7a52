/** In memory: API tokens, invitations and enrollment, sites, nonces. */
import { alreadyExists, keyInUse, unknownStudy } from '../errors';
import { API_TOKEN_KEYS, INVITATION_KEYS, SITE_KEYS } from '../keys';
import type { ApiToken, Invitation, Site } from '../records';
import type { IdentityStore } from '../types';
import { cloneRecord, sortByKeys } from '../util';
import type { MemoryContext } from './context';
import { key } from './state';

const copyToken = (t: ApiToken): ApiToken => cloneRecord(t, API_TOKEN_KEYS);
const copyInvitation = (i: Invitation): Invitation => cloneRecord(i, INVITATION_KEYS);
const copySite = (s: Site): Site => cloneRecord(s, SITE_KEYS);

export function identity(x: MemoryContext): IdentityStore {
  return {
    async claimCoordinatorKey(claim) {
      const s = x.s;
      s.coordinatorKey ??= { fingerprint: claim.fingerprint, claimedAt: claim.claimedAt };
      return { ...s.coordinatorKey };
    },

    async createApiToken(t, audit) {
      return x.audited(audit, (s) => {
        const hashTaken = [...s.tokens.values()].some((o) => o.tokenHash === t.tokenHash);
        if (s.tokens.has(t.id) || hashTaken) throw alreadyExists('API token');
        const studies = [...new Set(t.studies ?? [])].sort();
        if (studies.some((id) => !s.studies.has(id))) throw unknownStudy();
        const stored = copyToken({ ...t, studies, revokedAt: null });
        s.tokens.set(stored.id, stored);
        return copyToken(stored);
      });
    },

    async findApiTokenByHash(tokenHash) {
      const found = [...x.s.tokens.values()].find((t) => t.tokenHash === tokenHash);
      return found ? copyToken(found) : null;
    },

    async listApiTokens() {
      return sortByKeys([...x.s.tokens.values()], [(t) => t.createdAt, (t) => t.id]).map(copyToken);
    },

    async revokeApiToken(id, at, audit) {
      return x.audited(
        audit,
        (s) => {
          const t = s.tokens.get(id);
          if (!t || t.revokedAt !== null) return false;
          t.revokedAt = at;
          return true;
        },
        (ok) => ok,
      );
    },

    async createInvitation(i, audit) {
      return x.audited(audit, (s) => {
        const hashTaken = [...s.invitations.values()].some((o) => o.tokenHash === i.tokenHash);
        if (s.invitations.has(i.id) || hashTaken) throw alreadyExists('Invitation');
        const stored = copyInvitation({ ...i, usedAt: null, siteId: null });
        s.invitations.set(stored.id, stored);
        return copyInvitation(stored);
      });
    },

    async listInvitations() {
      return sortByKeys([...x.s.invitations.values()], [(i) => i.createdAt, (i) => i.id]).map(copyInvitation);
    },

    async findInvitationByTokenHash(tokenHash) {
      const found = [...x.s.invitations.values()].find((i) => i.tokenHash === tokenHash);
      return found ? copyInvitation(found) : null;
    },

    async enrollSite(input) {
      const { tokenHash, now, site } = input;
      return x.audited(
        input.audit,
        (s) => {
          const inv = [...s.invitations.values()].find((i) => i.tokenHash === tokenHash);
          if (!inv || inv.usedAt !== null || !(inv.expiresAt > now)) return null;
          if (s.sites.has(site.id)) throw alreadyExists('Site');
          for (const other of s.sites.values())
            if (other.signPublicKey === site.signPublicKey || other.boxPublicKey === site.boxPublicKey)
              throw keyInUse();
          const stored = copySite({ ...site, revokedAt: null, lastSeenAt: null, missedRounds: 0 });
          inv.usedAt = now;
          inv.siteId = site.id;
          s.sites.set(stored.id, stored);
          return copySite(stored);
        },
        (enrolled) => enrolled !== null,
      );
    },

    async getSite(id) {
      const site = x.s.sites.get(id);
      return site ? copySite(site) : null;
    },

    async listSites() {
      return sortByKeys([...x.s.sites.values()], [(o) => o.enrolledAt, (o) => o.id]).map(copySite);
    },

    async revokeSite(id, at, audit) {
      let first = false;
      return x.audited(
        audit,
        (s) => {
          const site = s.sites.get(id);
          if (!site) return null;
          first = site.revokedAt === null;
          site.revokedAt ??= at;
          return copySite(site);
        },
        () => first,
      );
    },

    async touchSite(id, at) {
      const site = x.s.sites.get(id);
      if (site) site.lastSeenAt = at;
      return site !== undefined;
    },

    async setMissedRounds(id, missedRounds) {
      const site = x.s.sites.get(id);
      if (site) site.missedRounds = missedRounds;
      return site !== undefined;
    },

    async useNonce(input) {
      const s = x.s;
      const k = key(input.siteId, input.nonce);
      const expiresAt = s.nonces.get(k);
      if (expiresAt !== undefined && expiresAt > input.now) return false;
      s.nonces.set(k, input.expiresAt);
      const site = input.seenAt === undefined ? undefined : s.sites.get(input.siteId);
      if (site) site.lastSeenAt = input.seenAt!;
      return true;
    },

    async pruneNonces(now) {
      const s = x.s;
      let removed = 0;
      for (const [k, expiresAt] of s.nonces) {
        if (expiresAt <= now) {
          s.nonces.delete(k);
          removed++;
        }
      }
      return removed;
    },
  };
}
