/**
 * Moving a consortium from SQLite to PostgreSQL (real PostgreSQL): a coordinator that ran a round on SQLite is copied,
 * then started on PostgreSQL with the same key, and the consortium carries on — same versions, same audit chain
 * (intact, verified with the same key), the open round finishes. Refusals: a schema that already holds data, and
 * schemas that differ.
 */
import path from 'node:path';
import { Database } from '@twinfed/sqlite-kit';
import { routes, type CurrentRound } from '@twinfed/shared';
import {
  baseWeights,
  enrollTestSite,
  json,
  operator,
  signedRequests,
  startTestCoordinator,
  testPlan,
  type TestSite,
} from '../__tests__/harness';
import { copySqliteToPostgres } from './copy-to-postgres';
import { PgDb } from './postgres/db';
import { dropPgSchema, freshSchema, openPgStore, pgTestUrl } from './__tests__/pg';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;

async function upload(site: TestSite, fid: string, round: number): Promise<number> {
  const cur = await json<CurrentRound>(site.request('GET', routes.currentRound(fid)));
  expect(cur.round?.round).toBe(round);
  const base = await baseWeights(site, cur.round!.baseVersionId);
  const bytes = site.seal({
    federationId: fid,
    round,
    baseVersionId: cur.round!.baseVersionId,
    weights: { layout: base.layout, data: base.data.map((x, i) => x + (i % 3) * 0.01) },
    numExamples: 7,
  });
  return (await site.request('POST', routes.updates(fid, round), bytes)).status;
}

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const published = (c: Coordinator, fid: string, n: number) =>
  until(async () => {
    const { models } = await json<{ models: { id: string; round: number }[] }>(
      operator(c, 'GET', `${routes.models}?federation=${fid}`),
    );
    return models.length >= n ? models : undefined;
  }, `${n} versions`);

/** The coordinator a failed test left running (closed after it). */
let running: Coordinator | null = null;
afterEach(async () => {
  await running?.close();
  running = null;
});
const schemas: string[] = [];
afterAll(async () => {
  for (const s of schemas) await dropPgSchema(s);
});
const newSchema = () => {
  const s = freshSchema('tf_copy');
  schemas.push(s);
  return s;
};

test('a consortium copied from SQLite carries on on PostgreSQL with the same key, versions and audit chain', async () => {
  const sqliteCoordinator = await startTestCoordinator({ store: 'sqlite' });
  running = sqliteCoordinator;
  const dataDir = sqliteCoordinator.dataDir;
  const [a, b] = [await enrollTestSite(sqliteCoordinator, 'Alpha'), await enrollTestSite(sqliteCoordinator, 'Beta')];
  const fid = (
    await json<{ id: string }>(
      operator(sqliteCoordinator, 'POST', routes.federations, { plan: testPlan({ rounds: 2 }) }),
    )
  ).id;
  expect(await upload(a, fid, 1)).toBe(201);
  expect(await upload(b, fid, 1)).toBe(201);
  const before = await published(sqliteCoordinator, fid, 2); // the initial version and round 1's
  await until(
    async () =>
      (await json<CurrentRound>(a.request('GET', routes.currentRound(fid)))).round?.round === 2 ? true : undefined,
    'round 2',
  );
  expect(await upload(a, fid, 2)).toBe(201); // acknowledged on SQLite; round 2 still waits for Beta
  const auditBefore = await json<{ ok: boolean; entries: number }>(
    operator(sqliteCoordinator, 'GET', routes.auditVerify),
  );
  expect(auditBefore.ok).toBe(true);
  running = null;
  await sqliteCoordinator.close();

  const schema = newSchema();
  const copied = await copySqliteToPostgres({
    sqlitePath: path.join(dataDir, 'coordinator.db'),
    postgres: { url: pgTestUrl(), schema },
  });
  const rows = Object.fromEntries(copied.tables.map((t) => [t.table, t.rows]));
  expect(rows).toMatchObject({ sites: 2, federations: 1, model_versions: 2, version_weights: 2, updates: 3 });
  expect(rows.audit_log).toBe(auditBefore.entries);
  expect(copied.auditSequenceEnd).toBe(auditBefore.entries);
  expect(rows).not.toHaveProperty('leases');
  const target = await openPgStore(schema);
  try {
    expect(await target.auditSequenceEnd()).toBe(auditBefore.entries); // a tail cut before the copy stays visible
    expect(await target.listSites()).toHaveLength(2);
  } finally {
    await target.close();
  }
  // PostgreSQL's own numbering (version order) continues after the copied rows.
  const db = new PgDb({ url: pgTestUrl(), schema, poolSize: 1 });
  try {
    const seq = await db.sql.one<{ next: number; max: number }>(
      `SELECT nextval(pg_get_serial_sequence('model_versions', 'seq')) AS next, (SELECT max(seq) FROM model_versions) AS max`,
    );
    expect(seq!.next).toBeGreaterThan(seq!.max);
  } finally {
    await db.close();
  }

  const pgCoordinator = await startTestCoordinator({ store: `${pgTestUrl()}?schema=${schema}`, dataDir });
  try {
    // The same versions, byte for byte as signed; the sites' keys still sign; the trail verifies with the same key.
    expect(await published(pgCoordinator, fid, 2)).toEqual(before);
    const again = await json<{ ok: boolean; entries: number }>(operator(pgCoordinator, 'GET', routes.auditVerify));
    expect(again).toMatchObject({ ok: true });
    expect(again.entries).toBeGreaterThanOrEqual(auditBefore.entries);
    // Beta (enrolled on SQLite) uploads round 2 on PostgreSQL; Alpha's acknowledged upload counts, not lost.
    const siteB = { ...b, request: signedRequests(pgCoordinator.url, b.siteId, b.identity.sign.secretKey) };
    expect(await upload(siteB, fid, 2)).toBe(201);
    const after = await published(pgCoordinator, fid, 3);
    expect(after.map((v) => v.round)).toEqual([...before.map((v) => v.round), 2]);
    const version = await json<{ meta: { contributors: { siteId: string }[] } }>(
      operator(pgCoordinator, 'GET', routes.model(after[2]!.id)),
    );
    expect(version.meta.contributors.map((x) => x.siteId).sort()).toEqual([a.siteId, b.siteId].sort());
    expect(await json<{ ok: boolean }>(operator(pgCoordinator, 'GET', routes.auditVerify))).toMatchObject({ ok: true });
  } finally {
    await pgCoordinator.close();
  }

  // A second copy into the same schema is refused, and nothing there changes.
  await expect(
    copySqliteToPostgres({ sqlitePath: path.join(dataDir, 'coordinator.db'), postgres: { url: pgTestUrl(), schema } }),
  ).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/already holds data/) });
}, 60_000);

test('a SQLite table PostgreSQL does not have is refused before anything is written', async () => {
  const c = await startTestCoordinator({ store: 'sqlite' });
  await c.close();
  const file = path.join(c.dataDir, 'coordinator.db');
  const db = new Database(file);
  db.exec('CREATE TABLE local_notes (id TEXT PRIMARY KEY)');
  db.close();
  const schema = newSchema();
  await expect(
    copySqliteToPostgres({ sqlitePath: file, postgres: { url: pgTestUrl(), schema } }),
  ).rejects.toMatchObject({
    code: 'CONFIG_INVALID',
    message: expect.stringMatching(/table local_notes is missing in PostgreSQL/),
  });
});
