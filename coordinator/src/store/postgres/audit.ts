/** PostgreSQL: the hash-chained audit log and its signed heads. */
import { chainAuditEntry } from '@twinfed/shared';
import type { AuditEntry, AuditHead, NewAuditEntry } from '../records';
import type { AuditHeadPayload, AuditStore } from '../types';
import { parseJson, type PgContext } from './context';
import type { Sql } from './db';

interface AuditRow extends Omit<AuditEntry, 'detail'> {
  detail: string;
}

const AUDIT = 'SELECT seq, at, actor, action, subject, detail, prev_hash AS "prevHash", hash FROM audit_log';
const HEADS = 'SELECT seq, head_hash AS "headHash", at, signature FROM audit_heads';

const toEntry = (row: AuditRow): AuditEntry => ({ ...row, detail: parseJson<AuditEntry['detail']>(row.detail) });

/**
 * Chains and inserts one entry; call inside a transaction. The lock on the `audit_sequence` row serialises appends
 * from every connection and process until the transaction ends, so the head read after it is the true head and the
 * chain stays one line (SQLite gets this from being single-writer).
 */
export async function appendAudit(sql: Sql, e: NewAuditEntry): Promise<AuditEntry> {
  await sql.one('SELECT last_seq FROM audit_sequence WHERE id = 1 FOR UPDATE');
  const last = await sql.one<{ seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
  );
  const entry = chainAuditEntry(last ?? null, {
    at: e.at,
    actor: e.actor,
    action: e.action,
    subject: e.subject,
    detail: e.detail,
  });
  await sql.count(
    'INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    [
      entry.seq,
      entry.at,
      entry.actor,
      entry.action,
      entry.subject,
      JSON.stringify(entry.detail),
      entry.prevHash,
      entry.hash,
    ],
  );
  await sql.count('UPDATE audit_sequence SET last_seq = GREATEST(last_seq, $1) WHERE id = 1', [entry.seq]);
  return { ...entry, detail: e.detail };
}

/** Signs and stores the current head (right after the entry it covers, in the same transaction). */
export async function signHead(
  sql: Sql,
  head: { seq: number; hash: string; at: string },
  sign: (h: AuditHeadPayload) => string,
): Promise<AuditHead> {
  const payload = { seq: head.seq, headHash: head.hash, at: head.at };
  const stored = { ...payload, signature: sign(payload) };
  await sql.count('INSERT INTO audit_heads (seq, head_hash, at, signature) VALUES ($1, $2, $3, $4)', [
    stored.seq,
    stored.headHash,
    stored.at,
    stored.signature,
  ]);
  return stored;
}

export function audit(x: PgContext): AuditStore {
  return {
    async appendAudit(e) {
      return x.tx((sql) => appendAudit(sql, e));
    },
    async listAudit(options) {
      const limit = Math.max(0, Math.floor(options.limit));
      const order = options.order === 'desc' ? 'DESC' : 'ASC';
      const rows = await x.sql.rows<AuditRow>(`${AUDIT} WHERE seq > $1 ORDER BY seq ${order} LIMIT $2`, [
        options.afterSeq ?? 0,
        limit,
      ]);
      return rows.map(toEntry);
    },
    async listAuditHeads() {
      return x.sql.rows<AuditHead>(`${HEADS} ORDER BY seq`);
    },
    async auditSequenceEnd() {
      return (await x.sql.one<{ last_seq: number }>('SELECT last_seq FROM audit_sequence WHERE id = 1'))?.last_seq ?? 0;
    },
  };
}
