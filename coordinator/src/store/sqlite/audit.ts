/** SQLite: audit log and the readiness write probe. */
import type { AuditEntry, NewAuditEntry } from '../records';
import type { ListAuditOptions } from '../types';
import type { SqlContext } from './context';

interface AuditRow extends Omit<AuditEntry, 'detail'> {
  detail: string;
}

const AUDIT = 'SELECT seq, at, actor, action, subject, detail FROM audit_log';

function toEntry(row: AuditRow): AuditEntry {
  return { ...row, detail: JSON.parse(row.detail) as AuditEntry['detail'] };
}

export function appendAudit(c: SqlContext, e: NewAuditEntry): AuditEntry {
  const detail = JSON.stringify(e.detail);
  const result = c
    .stmt('INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)')
    .run(e.at, e.actor, e.action, e.subject, detail);
  return toEntry({ seq: Number(result.lastInsertRowid), at: e.at, actor: e.actor, action: e.action, subject: e.subject, detail });
}

export function listAudit(c: SqlContext, options: ListAuditOptions): AuditEntry[] {
  const limit = Math.max(0, Math.floor(options.limit));
  const order = options.order === 'desc' ? 'DESC' : 'ASC';
  const rows = c
    .stmt(`${AUDIT} WHERE seq > ? ORDER BY seq ${order} LIMIT ?`)
    .all(options.afterSeq ?? 0, limit) as AuditRow[];
  return rows.map(toEntry);
}

/** Writes one row durably; false when the database cannot be written. */
export function probe(c: SqlContext): boolean {
  try {
    c.stmt(
      'INSERT INTO health_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at',
    ).run(new Date().toISOString());
    return true;
  } catch {
    return false;
  }
}
