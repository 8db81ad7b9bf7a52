/**
 * The one owner of `pg`: a connection pool bound to one schema, queries, and transactions with BEGIN/COMMIT/ROLLBACK
 * (retried on deadlock or serialization failure). Every session runs with `synchronous_commit = on` (checked at
 * connect), so a write is on the server's disk before its promise resolves, as with SQLite's synchronous=FULL.
 */
import { Pool, types as pgTypes, type PoolClient } from 'pg';
import { TwinfedError } from '@twinfed/shared';
import { checkSchemaName, redactUrl } from '../location';

/** Something that runs one statement: the pool (autocommit) or the client of an open transaction. */
export interface Sql {
  /** The rows of one statement. */
  rows<R>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** The first row, or undefined. */
  one<R>(text: string, params?: readonly unknown[]): Promise<R | undefined>;
  /** The number of rows the statement changed (INSERT/UPDATE/DELETE). */
  count(text: string, params?: readonly unknown[]): Promise<number>;
}

export interface PgOptions {
  /** A postgres:// URL (without the `schema` parameter). */
  url: string;
  /** The schema every session uses (search_path); created by the migrations when absent. */
  schema: string;
  /** Connections at most (default 10). */
  poolSize?: number;
}

const INT8 = 20;
const NUMERIC = 1700;

/** int8 and numeric as JS numbers (counts, sequences and ids stay far below 2^53); everything else as pg parses it. */
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if ((oid === INT8 || oid === NUMERIC) && format !== 'binary') return (v: string) => Number(v);
    return pgTypes.getTypeParser(oid, format) as (value: string) => unknown;
  },
} as unknown as NonNullable<ConstructorParameters<typeof Pool>[0]>['types'];

/** The schema as a quoted identifier. */
export function quoteIdent(name: string): string {
  return `"${checkSchemaName(name)}"`;
}

const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected
const MAX_ATTEMPTS = 5;

function wrap(
  run: (text: string, params?: readonly unknown[]) => Promise<{ rows: unknown[]; rowCount: number | null }>,
): Sql {
  return {
    async rows<R>(text: string, params?: readonly unknown[]) {
      return (await run(text, params)).rows as R[];
    },
    async one<R>(text: string, params?: readonly unknown[]) {
      return (await run(text, params)).rows[0] as R | undefined;
    },
    async count(text: string, params?: readonly unknown[]) {
      return (await run(text, params)).rowCount ?? 0;
    },
  };
}

/** SQLSTATE foreign_key_violation. */
export const FOREIGN_KEY_VIOLATION = '23503';

/** The pg error code (SQLSTATE) of an error, if any. */
export function pgCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** The constraint a pg error names, if any. */
export function pgConstraint(e: unknown): string | undefined {
  const c = (e as { constraint?: unknown }).constraint;
  return typeof c === 'string' ? c : undefined;
}

/** A pool on one schema. */
export class PgDb {
  private readonly pool: Pool;
  readonly sql: Sql;

  constructor(readonly options: PgOptions) {
    const schema = quoteIdent(options.schema);
    this.pool = new Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      // Connecting, or waiting for a free connection when all are busy: an error after this, never a hang.
      connectionTimeoutMillis: 15_000,
      types: TYPES,
      // Every session: this schema first, and commits that wait for the WAL flush (durable when they return).
      options: `-c search_path=${schema} -c synchronous_commit=on`,
    });
    // An idle connection the server dropped: the pool discards it; the next query opens a new one (or fails).
    this.pool.on('error', () => undefined);
    this.sql = wrap((text, params) => this.pool.query(text, params as unknown[]));
  }

  /** A dedicated connection (for session-level advisory locks); release it when done. */
  connect(): Promise<PoolClient> {
    return this.pool.connect();
  }

  /**
   * Runs `fn` in one READ COMMITTED transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws.
   * A deadlock or serialization failure rolls back and runs `fn` again (a few times), so `fn` must only touch the
   * database (and compute).
   */
  async tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn(wrap((text, params) => client.query(text, params as unknown[])));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        if (attempt < MAX_ATTEMPTS && RETRYABLE.has(pgCode(e) ?? '')) continue;
        throw e;
      } finally {
        client.release(broken);
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Refuses a server whose sessions do not commit synchronously (a write could be lost after it was acknowledged). */
export async function checkDurability(sql: Sql): Promise<void> {
  const row = await sql.one<{ synchronous_commit: string }>('SHOW synchronous_commit');
  const value = row?.synchronous_commit;
  if (value === 'off' || value === 'local' || value === undefined)
    throw new TwinfedError(
      'CONFIG_INVALID',
      `PostgreSQL synchronous_commit is "${value ?? 'unknown'}"; the coordinator needs it on (acknowledged writes must be durable).`,
    );
}

/** Turns "cannot connect" into a CONFIG_INVALID naming the server (without credentials). */
export function unreachable(url: string, e: unknown): TwinfedError {
  return new TwinfedError(
    'CONFIG_INVALID',
    `Cannot use the PostgreSQL store at ${redactUrl(url)}: ${(e as Error).message || String(e)}`,
  );
}

/** Drops a schema and everything in it (tests, and operators removing a trial deployment). */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const pool = new Pool({ connectionString: url, max: 1 });
  try {
    await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  } finally {
    await pool.end();
  }
}
