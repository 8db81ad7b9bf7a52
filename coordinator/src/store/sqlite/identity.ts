/** SQLite: API tokens, invitations and enrollment, sites, nonces. */
import { alreadyExists, keyInUse, unknownStudy } from '../errors';
import type { ApiToken, CoordinatorKeyClaim, Invitation, Site } from '../records';
import type { IdentityStore } from '../types';
import { insertUnique, type SqlContext, type SqliteContext } from './context';
import { readCache, throughCache } from './read-cache';
import { getStudy } from './studies';

const TOKENS = `SELECT id, name, role, token_hash AS tokenHash, created_at AS createdAt, revoked_at AS revokedAt
  FROM api_tokens`;
const INVITATIONS = `SELECT id, site_name AS siteName, token_hash AS tokenHash, created_at AS createdAt,
  expires_at AS expiresAt, used_at AS usedAt, site_id AS siteId FROM invitations`;
const SITES = `SELECT id, name, sign_public_key AS signPublicKey, box_public_key AS boxPublicKey,
  enrolled_at AS enrolledAt, revoked_at AS revokedAt, last_seen_at AS lastSeenAt, missed_rounds AS missedRounds
  FROM sites`;

/** A token row with its studies (sorted). */
function withStudies(c: SqlContext, row: Omit<ApiToken, 'studies'>): ApiToken {
  const studies = c
    .stmt('SELECT study_id FROM api_token_studies WHERE token_id = ? ORDER BY study_id')
    .pluck()
    .all(row.id) as string[];
  return { ...row, studies };
}

/** A site, from the read cache when it may serve (a copy). */
function getSite(c: SqlContext, id: string): Site | null {
  const row = throughCache(
    c,
    (cache) => cache.sites,
    id,
    () => c.stmt(`${SITES} WHERE id = ?`).get(id) as Site | undefined,
  );
  return row ? { ...row } : null;
}

/** Drops a site's cached row: call with every write of it. */
function forgetSite(c: SqlContext, id: string): void {
  readCache(c).sites.delete(id);
}

/**
 * A site's last-seen time, written in a write batch (presence: every few seconds per active site). Its cached row is
 * dropped at once, as every write of it does; the returned function, run once the batch has committed, keeps the row
 * with the new time (or drops it again when it was not cached), so the site's next request does not read it again.
 * The row kept is what the database now holds: it was current when the write ran (any other connection's commit since
 * the cache's last check clears it at the next one), the write changed only this column, and the writes of a batch
 * commit and run these functions in order.
 */
function writeLastSeen(
  c: SqlContext,
  id: string,
  at: string,
): { changed: boolean; keep: (committed: SqlContext) => void } {
  const cached = readCache(c).sites.get(id);
  forgetSite(c, id);
  const changed = c.stmt('UPDATE sites SET last_seen_at = ? WHERE id = ?').run(at, id).changes > 0;
  const kept = changed && cached ? { ...cached, lastSeenAt: at } : undefined;
  return {
    changed,
    keep: (committed) => {
      if (kept) readCache(committed).sites.set(id, kept);
      else forgetSite(committed, id);
    },
  };
}

export function identity(x: SqliteContext): IdentityStore {
  return {
    async claimCoordinatorKey(claim) {
      const c = x.c;
      return c.tx(() => {
        c.stmt('INSERT OR IGNORE INTO coordinator_key (id, fingerprint, claimed_at) VALUES (1, ?, ?)').run(
          claim.fingerprint,
          claim.claimedAt,
        );
        return c
          .stmt('SELECT fingerprint, claimed_at AS claimedAt FROM coordinator_key WHERE id = 1')
          .get() as CoordinatorKeyClaim;
      });
    },

    async createApiToken(t, audit) {
      const studies = [...new Set(t.studies ?? [])].sort();
      return x.audited(audit, (c) =>
        c.tx((): ApiToken => {
          if (studies.some((id) => !getStudy(c, id))) throw unknownStudy();
          insertUnique('API token', () =>
            c
              .stmt('INSERT INTO api_tokens (id, name, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?)')
              .run(t.id, t.name, t.role, t.tokenHash, t.createdAt),
          );
          const link = c.stmt('INSERT INTO api_token_studies (token_id, study_id) VALUES (?, ?)');
          for (const studyId of studies) link.run(t.id, studyId);
          const { id, name, role, tokenHash, createdAt } = t;
          return { id, name, role, studies, tokenHash, createdAt, revokedAt: null };
        }),
      );
    },

    async findApiTokenByHash(tokenHash) {
      const c = x.c;
      const row = c.stmt(`${TOKENS} WHERE token_hash = ?`).get(tokenHash) as Omit<ApiToken, 'studies'> | undefined;
      return row ? withStudies(c, row) : null;
    },

    async listApiTokens() {
      const c = x.c;
      return (c.stmt(`${TOKENS} ORDER BY created_at, id`).all() as Omit<ApiToken, 'studies'>[]).map((row) =>
        withStudies(c, row),
      );
    },

    async revokeApiToken(id, at, audit) {
      return x.audited(
        audit,
        (c) =>
          c.stmt('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id).changes > 0,
        (ok) => ok,
      );
    },

    async createInvitation(i, audit) {
      return x.audited(audit, (c): Invitation => {
        insertUnique('Invitation', () =>
          c
            .stmt('INSERT INTO invitations (id, site_name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
            .run(i.id, i.siteName, i.tokenHash, i.createdAt, i.expiresAt),
        );
        const { id, siteName, tokenHash, createdAt, expiresAt } = i;
        return { id, siteName, tokenHash, createdAt, expiresAt, usedAt: null, siteId: null };
      });
    },

    async listInvitations() {
      return x.c.stmt(`${INVITATIONS} ORDER BY created_at, id`).all() as Invitation[];
    },

    async findInvitationByTokenHash(tokenHash) {
      return (x.c.stmt(`${INVITATIONS} WHERE token_hash = ?`).get(tokenHash) as Invitation | undefined) ?? null;
    },

    async enrollSite(input) {
      const { tokenHash, now, site } = input;
      const enroll = (c: SqlContext): Site | null =>
        c.tx(() => {
          const inv = c.stmt(`${INVITATIONS} WHERE token_hash = ?`).get(tokenHash) as Invitation | undefined;
          if (!inv || inv.usedAt !== null || !(inv.expiresAt > now)) return null;
          if (getSite(c, site.id)) throw alreadyExists('Site');
          // Every key once registered stays taken (revoked sites included); the partial unique indexes of migration 5 back this.
          if (
            c
              .stmt('SELECT 1 FROM sites WHERE sign_public_key = ? OR box_public_key = ? LIMIT 1')
              .get(site.signPublicKey, site.boxPublicKey)
          )
            throw keyInUse();
          const used = c
            .stmt('UPDATE invitations SET used_at = ?, site_id = ? WHERE id = ? AND used_at IS NULL')
            .run(now, site.id, inv.id);
          if (used.changes !== 1) return null;
          c.stmt(
            'INSERT INTO sites (id, name, sign_public_key, box_public_key, enrolled_at) VALUES (?, ?, ?, ?, ?)',
          ).run(site.id, site.name, site.signPublicKey, site.boxPublicKey, site.enrolledAt);
          return getSite(c, site.id);
        });
      return x.audited(input.audit, enroll, (enrolled) => enrolled !== null);
    },

    async getSite(id) {
      return getSite(x.c, id);
    },

    async listSites() {
      return x.c.stmt(`${SITES} ORDER BY enrolled_at, id`).all() as Site[];
    },

    async revokeSite(id, at, audit) {
      let first = false;
      return x.audited(
        audit,
        (c) =>
          c.tx(() => {
            first = getSite(c, id)?.revokedAt === null;
            c.stmt('UPDATE sites SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?').run(at, id);
            forgetSite(c, id);
            return getSite(c, id);
          }),
        () => first,
      );
    },

    async touchSite(id, at) {
      let keep: ((c: SqlContext) => void) | undefined;
      return x.batch.run(
        (c) => {
          const written = writeLastSeen(c, id, at);
          keep = written.keep;
          return written.changed;
        },
        (c) => keep?.(c),
      );
    },

    async setMissedRounds(id, missedRounds) {
      const c = x.c;
      forgetSite(c, id);
      return c.stmt('UPDATE sites SET missed_rounds = ? WHERE id = ?').run(missedRounds, id).changes > 0;
    },

    /**
     * One statement: insert, or take over an expired row; a live row makes it a no-op (changes = 0). With `seenAt`,
     * a fresh nonce also records the site as seen, in the same batch.
     */
    async useNonce(input) {
      let keep: ((c: SqlContext) => void) | undefined;
      return x.batch.run(
        (c) => {
          const fresh =
            c
              .stmt(
                `INSERT INTO nonces (site_id, nonce, expires_at) VALUES (?, ?, ?)
               ON CONFLICT (site_id, nonce) DO UPDATE SET expires_at = excluded.expires_at WHERE nonces.expires_at <= ?`,
              )
              .run(input.siteId, input.nonce, input.expiresAt, input.now).changes > 0;
          if (fresh && input.seenAt !== undefined) keep = writeLastSeen(c, input.siteId, input.seenAt).keep;
          return fresh;
        },
        (c) => keep?.(c),
      );
    },

    async pruneNonces(now) {
      return x.c.stmt('DELETE FROM nonces WHERE expires_at <= ?').run(now).changes;
    },
  };
}
