/** PostgreSQL: site updates (encrypted envelopes, bytea) per round. */
import { unknownRound, unknownVersion } from '../errors';
import type { Round, Update, UpdateSummary } from '../records';
import type { UpdateStore } from '../types';
import { fromBytea, parseJson, toBytea, type PgContext } from './context';
import { FOREIGN_KEY_VIOLATION, pgCode, type Sql } from './db';
import { EVALUATION_INSERT_COLUMNS, EVALUATION_UPSERT, evaluationValues } from './versions';

/** The evaluation parameters of an update that carries none. */
const NO_EVALUATION: readonly null[] = [null, null, null, null, null, null];

interface HeaderRow extends Omit<UpdateSummary, 'metrics'> {
  metrics: string;
}
interface UpdateRow extends HeaderRow {
  envelope: Buffer;
}
/** putUpdate's one row: the round's state (null: no round), whether it inserted, and the existing update's columns (null: none). */
type PutRow = { roundState: Round['state'] | null; inserted: number } & { [K in keyof UpdateRow]: UpdateRow[K] | null };

const HEADER_COLS = `federation_id AS "federationId", round, site_id AS "siteId", digest, num_examples AS "numExamples",
  metrics, received_at AS "receivedAt"`;
const KEY = 'federation_id = $1 AND round = $2';

const toHeader = (row: HeaderRow): UpdateSummary => ({
  ...row,
  metrics: parseJson<UpdateSummary['metrics']>(row.metrics),
});

function toUpdate(row: UpdateRow): Update {
  const { envelope, ...header } = row;
  return { ...toHeader(header), envelope: fromBytea(envelope) };
}

async function getUpdate(sql: Sql, federationId: string, round: number, siteId: string): Promise<Update | null> {
  const row = await sql.one<UpdateRow>(`SELECT ${HEADER_COLS}, envelope FROM updates WHERE ${KEY} AND site_id = $3`, [
    federationId,
    round,
    siteId,
  ]);
  return row ? toUpdate(row) : null;
}

export function updates(x: PgContext): UpdateStore {
  return {
    async putUpdate(u, options) {
      // One autocommit statement: the round row FOR SHARE (it cannot change state, e.g. close for aggregation, until
      // the insert commits; a closing that committed first is seen, READ COMMITTED re-reads the locked row), the
      // existing update if any, the insert only when there is none and the round accepts, and the evaluation the
      // update carried only when the update was inserted (the foreign key on version_id is its existence check).
      const ev = options?.evaluation;
      let row: PutRow | undefined;
      try {
        row = await x.sql.one<PutRow>(
          `WITH r AS (SELECT state FROM rounds WHERE ${KEY} FOR SHARE),
             e AS (SELECT ${HEADER_COLS}, envelope FROM updates WHERE ${KEY} AND site_id = $3),
             i AS (INSERT INTO updates (federation_id, round, site_id, digest, envelope, num_examples, metrics,
                     received_at)
                   SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM r
                   WHERE NOT EXISTS (SELECT 1 FROM e) AND ($9::text[] IS NULL OR r.state = ANY($9::text[]))
                   ON CONFLICT DO NOTHING RETURNING 1),
             v AS (INSERT INTO evaluations (${EVALUATION_INSERT_COLUMNS})
                   SELECT $10, $11, $12, $13, $14, $15 FROM i WHERE $10::text IS NOT NULL
                   ${EVALUATION_UPSERT})
           SELECT (SELECT state FROM r) AS "roundState", (SELECT COUNT(*) FROM i) AS inserted, e.*
           FROM (SELECT 1) AS one LEFT JOIN e ON true`,
          [
            u.federationId,
            u.round,
            u.siteId,
            u.digest,
            toBytea(u.envelope),
            u.numExamples,
            JSON.stringify(u.metrics),
            u.receivedAt,
            options?.acceptStates ?? null,
            ...(ev ? evaluationValues(ev) : NO_EVALUATION),
          ],
        );
      } catch (err) {
        // Only the evaluation's row references what the statement did not read first (its version).
        if (ev && pgCode(err) === FOREIGN_KEY_VIOLATION) throw unknownVersion();
        throw err;
      }
      const { roundState, inserted, ...found } = row as PutRow;
      if (roundState === null) throw unknownRound();
      if (found.siteId !== null) {
        const existing = toUpdate(found as UpdateRow);
        return { status: existing.digest === u.digest ? 'duplicate' : 'conflict', existing };
      }
      if (inserted === 1) return { status: 'inserted' };
      if (options?.acceptStates && !options.acceptStates.includes(roundState)) return { status: 'round-closed' };
      // Another process inserted it after this statement's snapshot (and committed): first write wins.
      const first = (await getUpdate(x.sql, u.federationId, u.round, u.siteId)) as Update;
      return { status: first.digest === u.digest ? 'duplicate' : 'conflict', existing: first };
    },

    async getUpdate(federationId, round, siteId) {
      return getUpdate(x.sql, federationId, round, siteId);
    },

    async listUpdates(federationId, round) {
      const rows = await x.sql.rows<UpdateRow>(
        `SELECT ${HEADER_COLS}, envelope FROM updates WHERE ${KEY} ORDER BY site_id`,
        [federationId, round],
      );
      return rows.map(toUpdate);
    },

    async listUpdateSummaries(federationId, round) {
      const rows = await x.sql.rows<HeaderRow>(`SELECT ${HEADER_COLS} FROM updates WHERE ${KEY} ORDER BY site_id`, [
        federationId,
        round,
      ]);
      return rows.map(toHeader);
    },

    async countUpdates(federationId, round) {
      return (
        (await x.sql.one<{ n: number }>(`SELECT COUNT(*) AS n FROM updates WHERE ${KEY}`, [federationId, round]))?.n ??
        0
      );
    },

    async hasUpdate(federationId, round, siteId) {
      return (
        (await x.sql.one(`SELECT 1 FROM updates WHERE ${KEY} AND site_id = $3`, [federationId, round, siteId])) !==
        undefined
      );
    },
  };
}
