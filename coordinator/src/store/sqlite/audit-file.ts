/**
 * Forensic read access to a coordinator database's audit chain: opens the file read-only (no migration, no write,
 * not even the legacy sealing the store does on open) so an investigator can verify a copy of the file.
 */
import fs from 'node:fs';
import { Database, SqlContext } from '@twinfed/sqlite-kit';
import { TwinfedError } from '@twinfed/shared';
import type { AuditEntry, AuditHead } from '../records';
import { auditSequenceEnd, listAudit, listAuditHeads } from './audit';

/** A read-only view of one database file's audit chain. Close it when done. */
interface AuditFileReader {
  page(afterSeq: number, limit: number): AuditEntry[];
  heads(): AuditHead[];
  sequenceEnd(): number;
  close(): void;
}

/** Opens `file` read-only; `NOT_FOUND` when it does not exist, `CONFIG_INVALID` when it has no audit chain. */
export function openAuditFile(file: string): AuditFileReader {
  if (!fs.existsSync(file)) throw new TwinfedError('NOT_FOUND', `No database file at ${file}.`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const columns = db.prepare("SELECT name FROM pragma_table_info('audit_log')").pluck().all() as string[];
    const hasHeads =
      db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_heads'").get() !== undefined;
    if (!columns.includes('hash') || !hasHeads)
      throw new TwinfedError(
        'CONFIG_INVALID',
        `${file} is not a coordinator database with an audit chain (start the coordinator once to migrate it).`,
      );
  } catch (e) {
    db.close();
    throw e;
  }
  const c = new SqlContext(db);
  return {
    page: (afterSeq, limit) => listAudit(c, { afterSeq, limit }),
    heads: () => listAuditHeads(c),
    sequenceEnd: () => auditSequenceEnd(c),
    close: () => db.close(),
  };
}
