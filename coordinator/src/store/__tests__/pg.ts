/** The PostgreSQL server the tests use (TWINFED_TEST_PG_URL), and fresh schemas on it that tests drop at the end. */
import { randomBytes } from 'node:crypto';
import { dropSchema } from '../postgres/db';
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
