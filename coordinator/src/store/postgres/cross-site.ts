/** PostgreSQL: cross-site evaluations, the sites' messages and the sealed local models in transit. */
import { unknownCrossSite, unknownFederation } from '../errors';
import { CROSS_SITE_PHASE_OF, fixedSession, modelSenders, sameIds, samePayload } from '../cross-site-rules';
import {
  crossSiteRows as rows,
  type CrossSiteBoxRow,
  type CrossSiteMessageRow,
  type CrossSiteSessionRow,
} from '../cross-site-rows';
import type { CrossSiteKind, CrossSiteMessageRecord, CrossSiteRecord, PutCrossSiteMessageResult } from '../records';
import type { CrossSiteStore } from '../types';
import { toBytea, type PgContext } from './context';
import type { Sql } from './db';

const SESSIONS = `SELECT federation_id AS "federationId", global_version_id AS "globalVersionId", candidates, state,
  opened_at AS "openedAt", models_deadline_at AS "modelsDeadlineAt", participants,
  results_deadline_at AS "resultsDeadlineAt", matrix, closed_at AS "closedAt" FROM cross_site_sessions`;
const MESSAGES = `SELECT federation_id AS "federationId", site_id AS "siteId", kind, payload, created_at AS "createdAt"
  FROM cross_site_messages`;
const BOXES = `SELECT federation_id AS "federationId", sender, recipient, nonce, ciphertext FROM cross_site_boxes`;

/** The session; `lock` 'update': no other transaction changes it (or inserts under it) until this one ends. */
async function get(sql: Sql, federationId: string, lock?: 'update'): Promise<CrossSiteRecord | null> {
  const row = await sql.one<CrossSiteSessionRow>(`${SESSIONS} WHERE federation_id = $1${lock ? ' FOR UPDATE' : ''}`, [
    federationId,
  ]);
  return row ? rows.toSession(row) : null;
}

async function must(sql: Sql, federationId: string): Promise<CrossSiteRecord> {
  const s = await get(sql, federationId, 'update');
  if (!s) throw unknownCrossSite();
  return s;
}

async function messages(sql: Sql, federationId: string, kind: CrossSiteKind): Promise<CrossSiteMessageRecord[]> {
  return (
    await sql.rows<CrossSiteMessageRow>(`${MESSAGES} WHERE federation_id = $1 AND kind = $2 ORDER BY site_id`, [
      federationId,
      kind,
    ])
  ).map(rows.toMessage);
}

export function crossSite(x: PgContext): CrossSiteStore {
  return {
    async openCrossSite(r) {
      return x.tx(async (sql) => {
        if (!(await sql.one('SELECT 1 FROM federations WHERE id = $1', [r.federationId]))) throw unknownFederation();
        // First write wins: a concurrent open waits for the first to commit, inserts nothing, then reads the first.
        await sql.count(
          `INSERT INTO cross_site_sessions (federation_id, global_version_id, candidates, state, opened_at,
             models_deadline_at, participants, results_deadline_at, matrix, closed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (federation_id) DO NOTHING`,
          rows.sessionValues(r),
        );
        return (await get(sql, r.federationId)) as CrossSiteRecord;
      });
    },

    async getCrossSite(federationId) {
      return get(x.sql, federationId);
    },

    async putCrossSiteMessage(m, boxes = []) {
      // The session row is locked: its phase cannot change between the check and the insert.
      return x.tx(async (sql): Promise<PutCrossSiteMessageResult> => {
        const s = await must(sql, m.federationId);
        const row = await sql.one<CrossSiteMessageRow>(
          `${MESSAGES} WHERE federation_id = $1 AND site_id = $2 AND kind = $3`,
          [m.federationId, m.siteId, m.kind],
        );
        if (row) {
          const existing = rows.toMessage(row);
          return { status: samePayload(existing, m) ? 'duplicate' : 'conflict', existing };
        }
        if (s.state !== CROSS_SITE_PHASE_OF[m.kind]) return { status: 'closed', session: s };
        await sql.count(
          'INSERT INTO cross_site_messages (federation_id, site_id, kind, payload, created_at) VALUES ($1, $2, $3, $4, $5)',
          [m.federationId, m.siteId, m.kind, JSON.stringify(m.payload), m.createdAt],
        );
        for (const b of boxes)
          await sql.count(
            'INSERT INTO cross_site_boxes (federation_id, sender, recipient, nonce, ciphertext) VALUES ($1, $2, $3, $4, $5)',
            [b.federationId, b.sender, b.recipient, toBytea(b.nonce), toBytea(b.ciphertext)],
          );
        if (m.kind === 'result')
          await sql.count('DELETE FROM cross_site_boxes WHERE federation_id = $1 AND recipient = $2', [
            m.federationId,
            m.siteId,
          ]);
        return { status: 'accepted' };
      });
    },

    async listCrossSiteMessages(federationId, kind) {
      return messages(x.sql, federationId, kind);
    },

    async listCrossSiteBoxes(federationId, recipient) {
      return (
        await x.sql.rows<CrossSiteBoxRow>(`${BOXES} WHERE federation_id = $1 AND recipient = $2 ORDER BY sender`, [
          federationId,
          recipient,
        ])
      ).map(rows.toBox);
    },

    async fixCrossSiteParticipants(federationId, participants, resultsDeadlineAt) {
      return x.tx(async (sql) => {
        const s = await must(sql, federationId);
        if (s.state !== 'models' || !sameIds(modelSenders(await messages(sql, federationId, 'answer')), participants))
          return s;
        const fixed = fixedSession(s, participants, resultsDeadlineAt);
        await sql.count(
          "UPDATE cross_site_sessions SET state = 'evaluating', participants = $1, results_deadline_at = $2 WHERE federation_id = $3",
          [JSON.stringify(fixed.participants), resultsDeadlineAt, federationId],
        );
        await sql.count('DELETE FROM cross_site_boxes WHERE federation_id = $1 AND NOT (recipient = ANY($2::text[]))', [
          federationId,
          fixed.participants,
        ]);
        return (await get(sql, federationId)) as CrossSiteRecord;
      });
    },

    async closeCrossSite(federationId, o, audit) {
      return x.audited(
        audit,
        async (sql) => {
          const s = await must(sql, federationId);
          const reported = (await messages(sql, federationId, 'result')).map((m) => m.siteId);
          if (s.state !== 'evaluating' || !sameIds(reported, o.reported)) return { closed: false, session: s };
          await sql.count(
            "UPDATE cross_site_sessions SET state = 'complete', matrix = $1, closed_at = $2 WHERE federation_id = $3",
            [JSON.stringify(o.matrix), o.closedAt, federationId],
          );
          await sql.count('DELETE FROM cross_site_boxes WHERE federation_id = $1', [federationId]);
          return { closed: true, session: (await get(sql, federationId)) as CrossSiteRecord };
        },
        (r) => r.closed,
      );
    },
  };
}
