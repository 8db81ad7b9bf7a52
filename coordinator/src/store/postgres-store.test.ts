import { describeStoreContract } from './__tests__/contract';
import { openPgStore, pgSchemaPerFile, pgTestUrl } from './__tests__/pg';
import { PgDb } from './postgres/db';
import { PostgresStore } from './postgres-store';
import type { Store } from './types';

// One schema for this file, dropped at the end; every test starts from the freshly migrated state.
const pg = pgSchemaPerFile();
afterAll(() => pg.drop());

describeStoreContract('postgres', async () => {
  await pg.fresh();
  let current: Store = await openPgStore(pg.schema);
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await openPgStore(pg.schema);
      return current;
    },
    cleanup: () => current.close(),
  };
});

describe('PostgresStore.open', () => {
  test('an unreachable server is CONFIG_INVALID naming it, never its password', async () => {
    const err = await PostgresStore.open({ url: 'postgres://tf:s3cret@127.0.0.1:1/test', schema: 'x' }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((err as Error).message).toContain('127.0.0.1:1');
    expect((err as Error).message).not.toContain('s3cret');
  });

  test('every session commits synchronously', async () => {
    const store = await openPgStore(pg.schema);
    try {
      const db = new PgDb({ url: pgTestUrl(), schema: pg.schema, poolSize: 1 });
      try {
        expect(await db.sql.one('SHOW synchronous_commit')).toEqual({ synchronous_commit: 'on' });
      } finally {
        await db.close();
      }
    } finally {
      await store.close();
    }
  });

  test("a round's secure-aggregation messages of one kind have an index of their own (as SQLite's migration 019)", async () => {
    await pg.fresh();
    const store = await openPgStore(pg.schema);
    try {
      const db = new PgDb({ url: pgTestUrl(), schema: pg.schema, poolSize: 1 });
      try {
        // The senders' count at every state read, signature and reveal; the primary key (federation, round, site,
        // kind) would walk the round's messages of every kind.
        const rows = await db.sql.rows<{ indexdef: string }>(
          "SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'secagg_messages'",
          [pg.schema],
        );
        expect(rows.map((r) => r.indexdef)).toContainEqual(
          expect.stringMatching(/\(federation_id, round, kind, site_id\)$/),
        );
      } finally {
        await db.close();
      }
    } finally {
      await store.close();
    }
  });
});
