/** SQLite: cross-site evaluations, the sites' messages and the sealed local models in transit. */
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
import { toBlob, type SqliteContext } from './context';

const SESSIONS = `SELECT federation_id AS federationId, global_version_id AS globalVersionId, candidates, state,
  opened_at AS openedAt, models_deadline_at AS modelsDeadlineAt, participants, results_deadline_at AS resultsDeadlineAt,
  matrix, closed_at AS closedAt FROM cross_site_sessions`;
const MESSAGES =
  'SELECT federation_id AS federationId, site_id AS siteId, kind, payload, created_at AS createdAt FROM cross_site_messages';
const BOXES = 'SELECT federation_id AS federationId, sender, recipient, nonce, ciphertext FROM cross_site_boxes';

export function crossSite(x: SqliteContext): CrossSiteStore {
  const get = (federationId: string): CrossSiteRecord | null => {
    const row = x.c.stmt(`${SESSIONS} WHERE federation_id = ?`).get(federationId) as CrossSiteSessionRow | undefined;
    return row ? rows.toSession(row) : null;
  };
  const must = (federationId: string): CrossSiteRecord => {
    const s = get(federationId);
    if (!s) throw unknownCrossSite();
    return s;
  };
  const messages = (federationId: string, kind: CrossSiteKind): CrossSiteMessageRecord[] =>
    (
      x.c
        .stmt(`${MESSAGES} WHERE federation_id = ? AND kind = ? ORDER BY site_id`)
        .all(federationId, kind) as CrossSiteMessageRow[]
    ).map(rows.toMessage);
  return {
    async openCrossSite(r) {
      const c = x.c;
      return c.tx(() => {
        if (!c.stmt('SELECT 1 FROM federations WHERE id = ?').get(r.federationId)) throw unknownFederation();
        c.stmt(
          `INSERT INTO cross_site_sessions (federation_id, global_version_id, candidates, state, opened_at, models_deadline_at,
             participants, results_deadline_at, matrix, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (federation_id) DO NOTHING`,
        ).run(...rows.sessionValues(r));
        return get(r.federationId)!;
      });
    },

    async getCrossSite(federationId) {
      return get(federationId);
    },

    async putCrossSiteMessage(m, boxes = []) {
      const c = x.c;
      return c.tx((): PutCrossSiteMessageResult => {
        const s = must(m.federationId);
        const row = c
          .stmt(`${MESSAGES} WHERE federation_id = ? AND site_id = ? AND kind = ?`)
          .get(m.federationId, m.siteId, m.kind) as CrossSiteMessageRow | undefined;
        if (row) {
          const existing = rows.toMessage(row);
          return { status: samePayload(existing, m) ? 'duplicate' : 'conflict', existing };
        }
        if (s.state !== CROSS_SITE_PHASE_OF[m.kind]) return { status: 'closed', session: s };
        c.stmt(
          'INSERT INTO cross_site_messages (federation_id, site_id, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)',
        ).run(m.federationId, m.siteId, m.kind, JSON.stringify(m.payload), m.createdAt);
        const insert = c.stmt(
          'INSERT INTO cross_site_boxes (federation_id, sender, recipient, nonce, ciphertext) VALUES (?, ?, ?, ?, ?)',
        );
        for (const b of boxes) insert.run(b.federationId, b.sender, b.recipient, toBlob(b.nonce), toBlob(b.ciphertext));
        if (m.kind === 'result')
          c.stmt('DELETE FROM cross_site_boxes WHERE federation_id = ? AND recipient = ?').run(
            m.federationId,
            m.siteId,
          );
        return { status: 'accepted' };
      });
    },

    async listCrossSiteMessages(federationId, kind) {
      return messages(federationId, kind);
    },

    async listCrossSiteBoxes(federationId, recipient) {
      return (
        x.c
          .stmt(`${BOXES} WHERE federation_id = ? AND recipient = ? ORDER BY sender`)
          .all(federationId, recipient) as CrossSiteBoxRow[]
      ).map(rows.toBox);
    },

    async fixCrossSiteParticipants(federationId, participants, resultsDeadlineAt) {
      const c = x.c;
      return c.tx(() => {
        const s = must(federationId);
        if (s.state !== 'models' || !sameIds(modelSenders(messages(federationId, 'answer')), participants)) return s;
        const fixed = fixedSession(s, participants, resultsDeadlineAt);
        c.stmt(
          "UPDATE cross_site_sessions SET state = 'evaluating', participants = ?, results_deadline_at = ? WHERE federation_id = ?",
        ).run(JSON.stringify(fixed.participants), resultsDeadlineAt, federationId);
        const keep = new Set(fixed.participants);
        const del = c.stmt('DELETE FROM cross_site_boxes WHERE federation_id = ? AND recipient = ?');
        for (const site of s.candidates) if (!keep.has(site)) del.run(federationId, site);
        return get(federationId)!;
      });
    },

    async closeCrossSite(federationId, o, audit) {
      return x.audited(
        audit,
        (c) =>
          c.tx(() => {
            const s = must(federationId);
            const reported = messages(federationId, 'result').map((m) => m.siteId);
            if (s.state !== 'evaluating' || !sameIds(reported, o.reported)) return { closed: false, session: s };
            c.stmt(
              "UPDATE cross_site_sessions SET state = 'complete', matrix = ?, closed_at = ? WHERE federation_id = ?",
            ).run(JSON.stringify(o.matrix), o.closedAt, federationId);
            c.stmt('DELETE FROM cross_site_boxes WHERE federation_id = ?').run(federationId);
            return { closed: true, session: get(federationId)! };
          }),
        (r) => r.closed,
      );
    },
  };
}
