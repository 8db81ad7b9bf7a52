/** PostgreSQL: site updates (encrypted envelopes, bytea) per round. */
import { unknownRound } from '../errors';
import type { PutUpdateResult, Update, UpdateSummary } from '../records';
import type { UpdateStore } from '../types';
import { fromBytea, parseJson, toBytea, type PgContext } from './context';
import type { Sql } from './db';
import { getRound } from './federations';

interface HeaderRow extends Omit<UpdateSummary, 'metrics'> {
  metrics: string;
}
interface UpdateRow extends HeaderRow {
  envelope: Buffer;
}

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
      return x.tx(async (sql): Promise<PutUpdateResult> => {
        // FOR SHARE: the round cannot change state (e.g. close for aggregation) until this insert commits.
        const round = await getRound(sql, u.federationId, u.round, 'share');
        if (!round) throw unknownRound();
        const existing = await getUpdate(sql, u.federationId, u.round, u.siteId);
        if (existing) return { status: existing.digest === u.digest ? 'duplicate' : 'conflict', existing };
        if (options?.acceptStates && !options.acceptStates.includes(round.state)) return { status: 'round-closed' };
        const inserted = await sql.count(
          `INSERT INTO updates (federation_id, round, site_id, digest, envelope, num_examples, metrics, received_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
          [
            u.federationId,
            u.round,
            u.siteId,
            u.digest,
            toBytea(u.envelope),
            u.numExamples,
            JSON.stringify(u.metrics),
            u.receivedAt,
          ],
        );
        if (inserted === 1) return { status: 'inserted' };
        // Another process inserted it between the read and the insert (and committed): first write wins.
        const first = (await getUpdate(sql, u.federationId, u.round, u.siteId)) as Update;
        return { status: first.digest === u.digest ? 'duplicate' : 'conflict', existing: first };
      });
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
