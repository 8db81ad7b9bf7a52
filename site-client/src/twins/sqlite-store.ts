/**
 * The SQLite twin store (better-sqlite3; WAL, synchronous FULL: every write is on disk before its promise
 * resolves; file mode 0600). The only site-client module that imports better-sqlite3. Each `apply` is one
 * BEGIN IMMEDIATE transaction with no await inside.
 */
import { TwinfedError } from '@twinfed/shared';
import { applyWrites, resolveRef } from './apply';
import { ChangeListeners } from './change-listeners';
import { pseudonymousId } from './pseudonym';
import { sqliteBackend } from './sqlite/backend';
import { SqlContext } from './sqlite/context';
import { openTwinDatabase } from './sqlite/db';
import * as reads from './sqlite/reads';
import type * as T from './store-types';
import type { TwinSnapshot } from './types';

interface SqliteTwinStoreOptions {
  /** Database file (created with mode 0600, directory 0700), or ':memory:'. */
  path: string;
  /** The site secret (HMAC key of pseudonymous ids). */
  secret: Uint8Array;
  /** SQLite busy timeout in ms (default 5000). */
  busyTimeoutMs?: number;
  /** Clock for audit entries and recorded-at times (default Date.now). */
  now?: () => number;
}

export class SqliteTwinStore implements T.TwinStore {
  private context: SqlContext | null;
  private readonly listeners = new ChangeListeners();

  private constructor(
    context: SqlContext,
    private readonly secret: Uint8Array,
    private readonly now: () => number,
  ) {
    this.context = context;
  }

  /** Opens (creating if needed) and migrates the database. */
  static async open(options: SqliteTwinStoreOptions): Promise<SqliteTwinStore> {
    const db = openTwinDatabase({
      path: options.path,
      ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
    });
    return new SqliteTwinStore(new SqlContext(db), Uint8Array.from(options.secret), options.now ?? Date.now);
  }

  private get c(): SqlContext {
    if (!this.context) throw new TwinfedError('INTERNAL', 'The twin store is closed.');
    return this.context;
  }

  pidFor(hospitalId: string): string {
    return pseudonymousId(this.secret, hospitalId);
  }

  async apply(writes: readonly T.TwinWrite[]): Promise<T.WriteOutcome[]> {
    const c = this.c;
    const now = this.now();
    const { outcomes, changes } = c.tx(() =>
      applyWrites({ backend: sqliteBackend(c), secret: this.secret, writes, now }),
    );
    this.listeners.emit(changes);
    return outcomes;
  }

  async resolvePatient(ref: T.PatientRef): Promise<string | null> {
    return resolveRef(sqliteBackend(this.c), this.secret, ref);
  }

  async getTwin(pid: string, options: T.GetTwinOptions = {}): Promise<TwinSnapshot | null> {
    const c = this.c;
    return c.db.transaction(() => reads.getTwin(c, pid, options))();
  }

  async listPids(options: T.ListPidsOptions = {}): Promise<string[]> {
    return reads.listPids(this.c, options.consentFor, options.at ?? this.now());
  }

  async changedSince(seq: number): Promise<{ changes: T.PatientChange[]; seq: number }> {
    const c = this.c;
    return c.db.transaction(() => reads.changedSince(c, seq))();
  }

  onChange(listener: (changes: readonly T.PatientChange[]) => void): () => void {
    return this.listeners.add(listener);
  }

  async counts(): Promise<T.TwinCounts> {
    const c = this.c;
    return c.db.transaction(() => reads.counts(c))();
  }

  async resolveHospitalId(pid: string, options: T.ResolveHospitalIdOptions): Promise<string | null> {
    const c = this.c;
    const at = this.now();
    return c.tx(() => {
      const id = reads.hospitalIdOf(c, pid);
      if (id !== null)
        sqliteBackend(c).appendAudit({
          at,
          action: 'hospital-id-resolved',
          pid,
          detail: { actor: options.actor, reason: options.reason },
        });
      return id;
    });
  }

  async listAudit(options: { pid?: string } = {}): Promise<T.TwinAuditEntry[]> {
    return reads.listAudit(this.c, options.pid);
  }

  async close(): Promise<void> {
    const context = this.context;
    this.context = null;
    this.listeners.clear();
    context?.db.close();
  }
}
