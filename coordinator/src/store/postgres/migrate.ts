/**
 * PostgreSQL schema migrations: creates the schema when absent and applies, each in its own transaction, every
 * migration not yet recorded in its `schema_migrations`. All of it runs under a session advisory lock keyed by the
 * schema, so several replicas starting at once apply each migration exactly once (the others wait, then find
 * nothing to do). Refuses a schema newer than this coordinator.
 */
import { TwinfedError } from '@twinfed/shared';
import { quoteIdent, type PgDb } from './db';
import type { PgMigration } from './migrations';

/** Applies pending migrations; returns the versions this call applied. */
export async function migrate(db: PgDb, schema: string, migrations: readonly PgMigration[]): Promise<number[]> {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const client = await db.connect();
  let broken = false;
  try {
    await client.query("SELECT pg_advisory_lock(hashtext('twinfed.migrate'), hashtext($1))", [schema]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${quoteIdent(schema)}.schema_migrations (
           version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`,
      );
      const applied = new Set(
        (
          await client.query<{ version: number }>(`SELECT version FROM ${quoteIdent(schema)}.schema_migrations`)
        ).rows.map((r) => r.version),
      );
      const newest = Math.max(0, ...applied);
      const known = sorted.at(-1)?.version ?? 0;
      if (newest > known)
        throw new TwinfedError(
          'CONFIG_INVALID',
          `The PostgreSQL schema "${schema}" (v${newest}) is newer than this coordinator (v${known}).`,
        );
      const done: number[] = [];
      for (const m of sorted) {
        if (applied.has(m.version)) continue;
        try {
          await client.query('BEGIN');
          await client.query(m.sql);
          await client.query(
            `INSERT INTO ${quoteIdent(schema)}.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
            [m.version, m.name, new Date().toISOString()],
          );
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch(() => {
            broken = true;
          });
          throw e;
        }
        done.push(m.version);
      }
      return done;
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtext('twinfed.migrate'), hashtext($1))", [schema]).catch(() => {
        broken = true;
      });
    }
  } finally {
    client.release(broken);
  }
}
