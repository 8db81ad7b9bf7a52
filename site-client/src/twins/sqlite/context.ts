import type { Statement } from 'better-sqlite3';
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
