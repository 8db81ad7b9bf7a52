/** The PostgreSQL server the tests use (TWINFED_TEST_PG_URL), and fresh schemas on it that tests drop at the end. */
import { randomBytes } from 'node:crypto';
import { dropSchema, PgDb, quoteIdent } from '../postgres/db';
import { PostgresStore } from '../postgres-store';

/** The server URL (default: the local test server, trust auth, database `test`). */
export function pgTestUrl(): string {
  return process.env.TWINFED_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/** A schema name no other test (or helper sharing the server) uses. */
export function freshSchema(prefix = 'tf_test'): string {
  return `${prefix}_${process.pid}_${randomBytes(5).toString('hex')}`;
}

/** Opens a store on a schema; an unreachable server fails the test with a message saying how to fix it. */
export async function openPgStore(schema: string, poolSize?: number): Promise<PostgresStore> {
  try {
    return await PostgresStore.open({ url: pgTestUrl(), schema, ...(poolSize === undefined ? {} : { poolSize }) });
  } catch (e) {
    throw new Error(
      `PostgreSQL for the tests is unreachable or unusable at ${pgTestUrl()} (set TWINFED_TEST_PG_URL, or run ` +
        `scripts/test-prerequisites.sh): ${(e as Error).message}`,
    );
  }
}

export async function dropPgSchema(schema: string): Promise<void> {
  await dropSchema(pgTestUrl(), schema);
}

/**
 * Fresh stores for a test file at the cost of one migration: the file's schema is migrated once and copied (as
 * migrated) to a pristine twin; each `fresh()` truncates every table and puts the pristine rows back (the default
 * study, the audit counter), which is what a newly migrated schema holds. `drop()` removes both schemas.
 */
export function pgSchemaPerFile(): { schema: string; fresh(): Promise<void>; drop(): Promise<void> } {
  const schema = freshSchema('tf_contract');
  const pristine = `${schema}_pristine`;
  let tables: string[] | null = null;
  const admin = () => new PgDb({ url: pgTestUrl(), schema, poolSize: 1 });
  return {
    schema,
    async fresh() {
      if (!tables) {
        await (await openPgStore(schema)).close();
        const db = admin();
        try {
          tables = (
            await db.sql.rows<{ table_name: string }>(
              `SELECT table_name FROM information_schema.tables
               WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'`,
              [schema],
            )
          ).map((r) => r.table_name);
          await db.sql.count(`CREATE SCHEMA ${quoteIdent(pristine)}`);
          for (const t of tables)
            await db.sql.count(
              `CREATE TABLE ${quoteIdent(pristine)}.${quoteIdent(t)} AS TABLE ${quoteIdent(schema)}.${quoteIdent(t)}`,
            );
        } finally {
          await db.close();
        }
        return;
      }
      const db = admin();
      try {
        await db.tx(async (sql) => {
          // DELETE, not TRUNCATE (which rewrites every table file: half a second a test); replica mode skips the
          // append-only triggers of the audit tables and the foreign-key checks while everything is emptied.
          await sql.count("SET LOCAL session_replication_role = 'replica'");
          for (const t of tables!) await sql.count(`DELETE FROM ${quoteIdent(schema)}.${quoteIdent(t)}`);
          for (const t of tables!)
            await sql.count(
              `INSERT INTO ${quoteIdent(schema)}.${quoteIdent(t)} OVERRIDING SYSTEM VALUE SELECT * FROM ${quoteIdent(pristine)}.${quoteIdent(t)}`,
            );
        });
      } finally {
        await db.close();
      }
    },
    async drop() {
      await dropSchema(pgTestUrl(), pristine);
      await dropSchema(pgTestUrl(), schema);
    },
  };
}
