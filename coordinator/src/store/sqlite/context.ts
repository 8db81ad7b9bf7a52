import type { SqlContext } from '@twinfed/sqlite-kit';
import { alreadyExists, storeClosed } from '../errors';
import type { NewAuditEntry } from '../records';
import type { StoreLifecycle } from '../types';
import { appendAudit, probe } from './audit';
import { WalSync } from './wal-sync';
import { WriteBatch } from './write-batch';

export { SqlContext } from '@twinfed/sqlite-kit';

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

/**
 * What every SQLite domain part shares: the connection (until close), the write batch and audited writes.
 * Multi-statement writes run in BEGIN IMMEDIATE transactions with no await inside, so they are atomic against
 * other connections to the same file too.
 */
export class SqliteContext {
  private context: SqlContext | null;
  /** Concurrent small writes (nonces, last-seen times, uploads, evaluations) share one commit (see WriteBatch). */
  readonly batch: WriteBatch;
  private readonly wal: WalSync | undefined;

  constructor(context: SqlContext) {
    this.context = context;
    const db = context.db;
    const wal = !db.memory && db.pragma('journal_mode', { simple: true }) === 'wal';
    this.wal = wal ? new WalSync(`${db.name}-wal`) : undefined;
    this.batch = new WriteBatch(() => this.c, this.wal);
  }

  /** The live connection; throws NOT_READY after close. */
  get c(): SqlContext {
    if (!this.context) throw storeClosed();
    return this.context;
  }

  /** Runs a write and, when `done(result)` says it took effect, appends `entry` in the same immediate transaction. */
  audited<X>(
    entry: NewAuditEntry | undefined,
    write: (c: SqlContext) => X,
    done: (result: X) => boolean = () => true,
  ): X {
    const c = this.c;
    if (!entry) return write(c);
    return c.tx(() => {
      const result = write(c);
      if (done(result)) appendAudit(c, entry);
      return result;
    });
  }

  health(): boolean {
    return this.context !== null && probe(this.context);
  }

  /** Flushes the write batch and closes the database (idempotent). */
  close(): void {
    if (this.context) this.batch.flush();
    const context = this.context;
    this.context = null;
    context?.db.close();
    this.wal?.close();
  }
}

export function lifecycle(x: SqliteContext): StoreLifecycle {
  return {
    async health() {
      return x.health();
    },
    async close() {
      x.close();
    },
  };
}
