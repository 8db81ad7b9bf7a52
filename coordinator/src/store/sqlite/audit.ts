/** SQLite: the hash-chained audit log, its signed heads, and the readiness write probe. */
import { AUDIT_GENESIS, auditEntryHash, chainAuditEntry } from '@twinfed/shared';
import type { AuditEntry, AuditHead, NewAuditEntry } from '../records';
import type { AuditHeadPayload, AuditStore, ListAuditOptions } from '../types';
import type { SqlContext, SqliteContext } from './context';

interface AuditRow extends Omit<AuditEntry, 'detail'> {
  detail: string;
}

const AUDIT = 'SELECT seq, at, actor, action, subject, detail, prev_hash AS prevHash, hash FROM audit_log';
const HEADS = 'SELECT seq, head_hash AS headHash, at, signature FROM audit_heads';

function toEntry(row: AuditRow): AuditEntry {
  return { ...row, detail: JSON.parse(row.detail) as AuditEntry['detail'] };
}

function lastLink(c: SqlContext): { seq: number; hash: string } | null {
  const row = c.stmt('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as
    { seq: number; hash: string | null } | undefined;
  return row ? { seq: row.seq, hash: row.hash ?? '' } : null;
}

/** Chains and inserts one entry (in its own immediate transaction, or as a savepoint of the caller's). */
export function appendAudit(c: SqlContext, e: NewAuditEntry): AuditEntry {
  return c.tx(() => {
    const entry = chainAuditEntry(lastLink(c), {
      at: e.at,
      actor: e.actor,
      action: e.action,
      subject: e.subject,
      detail: e.detail,
    });
    c.stmt(
      'INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(
      entry.seq,
      entry.at,
      entry.actor,
      entry.action,
      entry.subject,
      JSON.stringify(entry.detail),
      entry.prevHash,
      entry.hash,
    );
    return { ...entry, detail: e.detail };
  });
}

/** Signs and stores the current head (call right after the entry it covers, in the same transaction). */
export function signHead(
  c: SqlContext,
  head: { seq: number; hash: string; at: string },
  sign: (h: AuditHeadPayload) => string,
): AuditHead {
  const payload = { seq: head.seq, headHash: head.hash, at: head.at };
  const stored = { ...payload, signature: sign(payload) };
  c.stmt('INSERT INTO audit_heads (seq, head_hash, at, signature) VALUES (?, ?, ?, ?)').run(
    stored.seq,
    stored.headHash,
    stored.at,
    stored.signature,
  );
  return stored;
}

export function listAudit(c: SqlContext, options: ListAuditOptions): AuditEntry[] {
  const limit = Math.max(0, Math.floor(options.limit));
  const order = options.order === 'desc' ? 'DESC' : 'ASC';
  const rows = c
    .stmt(`${AUDIT} WHERE seq > ? ORDER BY seq ${order} LIMIT ?`)
    .all(options.afterSeq ?? 0, limit) as AuditRow[];
  return rows.map(toEntry);
}

export function listAuditHeads(c: SqlContext): AuditHead[] {
  return c.stmt(`${HEADS} ORDER BY seq`).all() as AuditHead[];
}

/** The AUTOINCREMENT counter of the audit log: the highest seq ever inserted (0 when none). */
export function auditSequenceEnd(c: SqlContext): number {
  const n = c.stmt("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").pluck().get() as number | undefined;
  return n ?? 0;
}

/** The audit domain of the store; the reads are shared with the read-only forensic reader (audit-file.ts). */
export function audit(x: SqliteContext): AuditStore {
  return {
    async appendAudit(e) {
      return appendAudit(x.c, e);
    },
    async listAudit(options) {
      return listAudit(x.c, options);
    },
    async listAuditHeads() {
      return listAuditHeads(x.c);
    },
    async auditSequenceEnd() {
      return auditSequenceEnd(x.c);
    },
  };
}

/**
 * Chains the rows written before the log was a chain (migration 5), once: only while no row has a hash yet, so a row
 * whose hash someone later cleared is reported by verification instead of being silently re-sealed.
 */
export function sealLegacyAudit(c: SqlContext): number {
  return c.tx(() => {
    if (c.stmt('SELECT 1 FROM audit_log WHERE hash IS NOT NULL LIMIT 1').get() !== undefined) return 0;
    const rows = c.stmt(`${AUDIT} ORDER BY seq`).all() as AuditRow[];
    let prevHash = AUDIT_GENESIS;
    for (const row of rows) {
      const e = toEntry(row);
      // The stored seq is kept (a legacy gap is left for verification to name rather than renumbering history).
      const hash = auditEntryHash({
        seq: row.seq,
        at: e.at,
        actor: e.actor,
        action: e.action,
        subject: e.subject,
        detail: e.detail,
        prevHash,
      });
      c.stmt('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?').run(prevHash, hash, row.seq);
      prevHash = hash;
    }
    return rows.length;
  });
}

/** Writes one row durably; false when the database cannot be written. */
export function probe(c: SqlContext): boolean {
  try {
    c.stmt('INSERT INTO health_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at').run(
      new Date().toISOString(),
    );
    return true;
  } catch {
    return false;
  }
}
