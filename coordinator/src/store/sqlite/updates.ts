/** SQLite: site updates (encrypted envelopes) per round. */
import { unknownRound } from '../errors';
import type { PutUpdateResult, Update, UpdateSummary } from '../records';
import type { UpdateStore } from '../types';
import { fromBlob, toBlob, type SqlContext, type SqliteContext } from './context';
import { roundState } from './federations';
import { readCache, roundKey, throughCache } from './read-cache';
import { upsertEvaluation } from './versions';

interface HeaderRow extends Omit<UpdateSummary, 'metrics'> {
  metrics: string;
}
interface UpdateRow extends HeaderRow {
  envelope: Buffer;
}

const HEADER_COLS = `federation_id AS federationId, round, site_id AS siteId, digest, num_examples AS numExamples,
  metrics, received_at AS receivedAt`;
const KEY = 'federation_id = ? AND round = ?';

function toHeader(row: HeaderRow): UpdateSummary {
  return { ...row, metrics: JSON.parse(row.metrics) as UpdateSummary['metrics'] };
}

function toUpdate(row: UpdateRow): Update {
  const { envelope, ...header } = row;
  return { ...toHeader(header), envelope: fromBlob(envelope) };
}

function getUpdate(c: SqlContext, federationId: string, round: number, siteId: string): Update | null {
  const row = c
    .stmt(`SELECT ${HEADER_COLS}, envelope FROM updates WHERE ${KEY} AND site_id = ?`)
    .get(federationId, round, siteId) as UpdateRow | undefined;
  return row ? toUpdate(row) : null;
}

/**
 * Before an update of the round `key` is inserted in a write batch: the round's cached count is dropped now (committed
 * or not, see read-cache.ts), and the returned function, run once the batch has committed, counts the insert on top of
 * the count as it was before it (kept then, or left by the batch's earlier inserts' functions, which run first), so the
 * round's next read does not count its updates again (a `COUNT(*)` over them, at every upload). Nothing kept: nothing
 * counted.
 */
function countingInsert(c: SqlContext, key: string): (committed: SqlContext) => void {
  const counts = readCache(c).updateCounts;
  const before = counts.get(key);
  counts.delete(key);
  return (committed) => {
    const kept = readCache(committed).updateCounts;
    const now = before ?? kept.get(key);
    if (now !== undefined) kept.set(key, now + 1);
  };
}

export function updates(x: SqliteContext): UpdateStore {
  return {
    async putUpdate(u, options) {
      let counted: ((c: SqlContext) => void) | undefined;
      return x.batch.run(
        (c) =>
          c.tx((): PutUpdateResult => {
            const state = roundState(c, u.federationId, u.round);
            if (state === undefined) throw unknownRound();
            const existing = getUpdate(c, u.federationId, u.round, u.siteId);
            if (existing) return { status: existing.digest === u.digest ? 'duplicate' : 'conflict', existing };
            if (options?.acceptStates && !options.acceptStates.includes(state)) return { status: 'round-closed' };
            const count = countingInsert(c, roundKey(u.federationId, u.round));
            c.stmt(
              `INSERT INTO updates (federation_id, round, site_id, digest, envelope, num_examples, metrics, received_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
            ).run(
              u.federationId,
              u.round,
              u.siteId,
              u.digest,
              toBlob(u.envelope),
              u.numExamples,
              JSON.stringify(u.metrics),
              u.receivedAt,
            );
            if (options?.evaluation) upsertEvaluation(c, options.evaluation);
            counted = count;
            return { status: 'inserted' };
          }),
        (c) => counted?.(c),
      );
    },

    async getUpdate(federationId, round, siteId) {
      return getUpdate(x.c, federationId, round, siteId);
    },

    async listUpdates(federationId, round) {
      const rows = x.c
        .stmt(`SELECT ${HEADER_COLS}, envelope FROM updates WHERE ${KEY} ORDER BY site_id`)
        .all(federationId, round) as UpdateRow[];
      return rows.map(toUpdate);
    },

    async listUpdateSummaries(federationId, round) {
      const rows = x.c
        .stmt(`SELECT ${HEADER_COLS} FROM updates WHERE ${KEY} ORDER BY site_id`)
        .all(federationId, round) as HeaderRow[];
      return rows.map(toHeader);
    },

    async countUpdates(federationId, round) {
      return throughCache(
        x.c,
        (cache) => cache.updateCounts,
        roundKey(federationId, round),
        () => x.c.stmt(`SELECT COUNT(*) FROM updates WHERE ${KEY}`).pluck().get(federationId, round) as number,
      )!;
    },

    async hasUpdate(federationId, round, siteId) {
      return (
        x.c.stmt(`SELECT 1 FROM updates WHERE ${KEY} AND site_id = ?`).get(federationId, round, siteId) !== undefined
      );
    },
  };
}
