import type { Statement } from 'better-sqlite3';
import { alreadyExists } from '../errors';
import type { Db } from './db';

/** A connection with a prepared-statement cache and immediate transactions. */
export class SqlContext {
  private readonly statements = new Map<string, Statement>();

  constructor(readonly db: Db) {}

  /** The cached prepared statement for this SQL text. */
  stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Runs `fn` in a BEGIN IMMEDIATE transaction (write lock up front; no await inside). */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }
}

/** A Buffer view for binding (no copy). */
export function toBlob(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A plain Uint8Array copy of a blob read from SQLite. */
export function fromBlob(blob: Buffer): Uint8Array {
  return new Uint8Array(blob);
}

/** Runs an insert, turning primary-key and unique violations into ALREADY_EXISTS. */
export function insertUnique<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') throw alreadyExists(what);
    throw e;
  }
}
