/** PostgreSQL: API tokens, invitations and enrollment, sites, nonces, the coordinator key. */
import { alreadyExists, keyInUse, unknownStudy } from '../errors';
import type { ApiToken, CoordinatorKeyClaim, Invitation, Site } from '../records';
import type { IdentityStore } from '../types';
import { insertUnique, type PgContext } from './context';
import type { Sql } from './db';
import { getStudy } from './studies';

const TOKENS = `SELECT id, name, role, token_hash AS "tokenHash", created_at AS "createdAt", revoked_at AS "revokedAt"
  FROM api_tokens`;
const INVITATIONS = `SELECT id, site_name AS "siteName", token_hash AS "tokenHash", created_at AS "createdAt",
  expires_at AS "expiresAt", used_at AS "usedAt", site_id AS "siteId" FROM invitations`;
const SITES = `SELECT id, name, sign_public_key AS "signPublicKey", box_public_key AS "boxPublicKey",
  enrolled_at AS "enrolledAt", revoked_at AS "revokedAt", last_seen_at AS "lastSeenAt", missed_rounds AS "missedRounds"
  FROM sites`;

type TokenRow = Omit<ApiToken, 'studies'>;

/** Token rows with their studies (sorted), in the rows' order. */
async function withStudies(sql: Sql, rows: TokenRow[]): Promise<ApiToken[]> {
  if (rows.length === 0) return [];
  const links = await sql.rows<{ token_id: string; study_id: string }>(
    'SELECT token_id, study_id FROM api_token_studies WHERE token_id = ANY($1) ORDER BY study_id',
    [rows.map((r) => r.id)],
  );
  return rows.map((row) => ({ ...row, studies: links.filter((l) => l.token_id === row.id).map((l) => l.study_id) }));
}

async function getSite(sql: Sql, id: string): Promise<Site | null> {
  return (await sql.one<Site>(`${SITES} WHERE id = $1`, [id])) ?? null;
}

export function identity(x: PgContext): IdentityStore {
  return {
    async claimCoordinatorKey(claim) {
      // Insert-once: of replicas claiming at once, the first insert wins and every caller reads that row.
      await x.sql.count(
        'INSERT INTO coordinator_key (id, fingerprint, claimed_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING',
        [claim.fingerprint, claim.claimedAt],
      );
      return (await x.sql.one<CoordinatorKeyClaim>(
        'SELECT fingerprint, claimed_at AS "claimedAt" FROM coordinator_key WHERE id = 1',
      )) as CoordinatorKeyClaim;
    },

    async createApiToken(t, audit) {
      const studies = [...new Set(t.studies ?? [])].sort();
      return x.audited(audit, async (sql): Promise<ApiToken> => {
        for (const id of studies) if (!(await getStudy(sql, id))) throw unknownStudy();
        await insertUnique('API token', () =>
          sql.count('INSERT INTO api_tokens (id, name, role, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)', [
            t.id,
            t.name,
            t.role,
            t.tokenHash,
            t.createdAt,
          ]),
        );
        for (const studyId of studies)
          await sql.count('INSERT INTO api_token_studies (token_id, study_id) VALUES ($1, $2)', [t.id, studyId]);
        const { id, name, role, tokenHash, createdAt } = t;
        return { id, name, role, studies, tokenHash, createdAt, revokedAt: null };
      });
    },

    async findApiTokenByHash(tokenHash) {
      const sql = x.sql;
      const row = await sql.one<TokenRow>(`${TOKENS} WHERE token_hash = $1`, [tokenHash]);
      return row ? ((await withStudies(sql, [row]))[0] ?? null) : null;
    },

    async listApiTokens() {
      const sql = x.sql;
      return withStudies(sql, await sql.rows<TokenRow>(`${TOKENS} ORDER BY created_at, id`));
    },

    async revokeApiToken(id, at, audit) {
      return x.audited(
        audit,
        async (sql) =>
          (await sql.count('UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id])) > 0,
        (ok) => ok,
      );
    },

    async createInvitation(i, audit) {
      return x.audited(audit, async (sql): Promise<Invitation> => {
        await insertUnique('Invitation', () =>
          sql.count(
            'INSERT INTO invitations (id, site_name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)',
            [i.id, i.siteName, i.tokenHash, i.createdAt, i.expiresAt],
          ),
        );
        const { id, siteName, tokenHash, createdAt, expiresAt } = i;
        return { id, siteName, tokenHash, createdAt, expiresAt, usedAt: null, siteId: null };
      });
    },

    async listInvitations() {
      return x.sql.rows<Invitation>(`${INVITATIONS} ORDER BY created_at, id`);
    },

    async findInvitationByTokenHash(tokenHash) {
      return (await x.sql.one<Invitation>(`${INVITATIONS} WHERE token_hash = $1`, [tokenHash])) ?? null;
    },

    async enrollSite(input) {
      const { tokenHash, now, site } = input;
      return x.audited(
        input.audit,
        async (sql): Promise<Site | null> => {
          // The invitation row stays locked until commit: a second enrollment with the same token waits, then sees it used.
          const inv = await sql.one<Invitation>(`${INVITATIONS} WHERE token_hash = $1 FOR UPDATE`, [tokenHash]);
          if (!inv || inv.usedAt !== null || !(inv.expiresAt > now)) return null;
          if (await getSite(sql, site.id)) throw alreadyExists('Site');
          // Every key once registered stays taken (revoked sites included); the partial unique indexes back this.
          if (
            await sql.one('SELECT 1 FROM sites WHERE sign_public_key = $1 OR box_public_key = $2 LIMIT 1', [
              site.signPublicKey,
              site.boxPublicKey,
            ])
          )
            throw keyInUse();
          await sql.count('UPDATE invitations SET used_at = $1, site_id = $2 WHERE id = $3', [now, site.id, inv.id]);
          await insertUnique('Site', () =>
            sql.count(
              'INSERT INTO sites (id, name, sign_public_key, box_public_key, enrolled_at) VALUES ($1, $2, $3, $4, $5)',
              [site.id, site.name, site.signPublicKey, site.boxPublicKey, site.enrolledAt],
            ),
          );
          return getSite(sql, site.id);
        },
        (enrolled) => enrolled !== null,
      );
    },

    async getSite(id) {
      return getSite(x.sql, id);
    },

    async listSites() {
      return x.sql.rows<Site>(`${SITES} ORDER BY enrolled_at, id`);
    },

    async revokeSite(id, at, audit) {
      let first = false;
      return x.audited(
        audit,
        async (sql) => {
          first =
            (await sql.count('UPDATE sites SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id])) > 0;
          return getSite(sql, id);
        },
        () => first,
      );
    },

    async touchSite(id, at) {
      return (await x.sql.count('UPDATE sites SET last_seen_at = $1 WHERE id = $2', [at, id])) > 0;
    },

    async setMissedRounds(id, missedRounds) {
      return (await x.sql.count('UPDATE sites SET missed_rounds = $1 WHERE id = $2', [missedRounds, id])) > 0;
    },

    /**
     * One statement: insert, or take over an expired row; a live row (from any process) makes it a no-op. With
     * `seenAt`, the same statement records the site as seen when the nonce was fresh.
     */
    async useNonce(input) {
      const row = await x.sql.one<{ fresh: number }>(
        `WITH n AS (INSERT INTO nonces (site_id, nonce, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (site_id, nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE nonces.expires_at <= $4
             RETURNING 1),
           seen AS (UPDATE sites SET last_seen_at = $5 WHERE id = $1 AND $5::text IS NOT NULL AND EXISTS (SELECT 1 FROM n))
         SELECT COUNT(*) AS fresh FROM n`,
        [input.siteId, input.nonce, input.expiresAt, input.now, input.seenAt ?? null],
      );
      return (row?.fresh ?? 0) > 0;
    },

    async pruneNonces(now) {
      return x.sql.count('DELETE FROM nonces WHERE expires_at <= $1', [now]);
    },
  };
}
