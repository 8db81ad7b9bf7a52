/**
 * The round engine on the PostgreSQL store: whole federations run to the same bits as on the memory store, a crash
 * mid-round resumes from PostgreSQL, and two engines (two replicas' stores on one schema) cannot double-publish.
 */
import { dropPgSchema, freshSchema, openPgStore } from '../store/__tests__/pg';
import type { Store } from '../store';
import { Crash, engineFixture, fixturePlan } from './__tests__/engine-fixture';

const opened: Store[] = [];
const schemas: string[] = [];

async function pgStore(schema = freshSchema('tf_engine')): Promise<Store> {
  if (!schemas.includes(schema)) schemas.push(schema);
  const store = await openPgStore(schema, 4);
  opened.push(store);
  return store;
}

afterAll(async () => {
  for (const s of opened) await s.close();
  for (const schema of schemas) await dropPgSchema(schema);
});

async function run(store?: Store): Promise<{ bytes: Buffer; store: Store; fid: string }> {
  const fx = await engineFixture({ sites: 3, ...(store ? { store } : {}) });
  const e = fx.engine();
  const fed = await e.createFederation(fixturePlan(), 'test');
  await fx.drive(e, fed.id);
  e.close();
  return { bytes: await fx.finalBytes(fed.id), store: fx.store, fid: fed.id };
}

test('a whole federation (3 rounds) on PostgreSQL ends with the bits of the memory store', async () => {
  const reference = await run();
  const pg = await run(await pgStore());
  expect(pg.bytes).toEqual(reference.bytes);
  const rounds = await pg.store.listRounds(pg.fid);
  expect(rounds.map((r) => r.state)).toEqual(['published', 'published', 'published']);
  expect((await pg.store.getFederation(pg.fid))?.state).toBe('completed');
  expect((await pg.store.listVersions({ federationId: pg.fid })).map((v) => v.round)).toEqual([0, 1, 2, 3]);
});

test.each(['upload.stored', 'round.aggregating', 'version.published'] as const)(
  'a crash at %s resumes from PostgreSQL to the same bits',
  async (point) => {
    const reference = await run();
    const schema = freshSchema('tf_engine');
    const fx = await engineFixture({ sites: 3, store: await pgStore(schema) });
    const first = fx.engine({ crashAt: { point, nth: 2 } });
    let fid: string | undefined;
    await expect(
      (async () => {
        fid = (await first.createFederation(fixturePlan(), 'test')).id;
        await fx.drive(first, fid);
      })(),
    ).rejects.toBeInstanceOf(Crash);
    first.close();
    // The "restarted process": a new store (its own pool) on the same schema, and a new engine on it.
    const restarted = await pgStore(schema);
    const second = fx.engine({ deps: { store: restarted } });
    await second.resume();
    await fx.drive(second, fid!);
    second.close();
    expect(await fx.finalBytes(fid!)).toEqual(reference.bytes);
    expect((await restarted.getFederation(fid!))?.state).toBe('completed');
  },
);
