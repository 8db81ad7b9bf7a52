/** `twinfed coordinator copy-store` against a real SQLite data dir and the test PostgreSQL server. */
import path from 'node:path';
import { Database } from '@twinfed/sqlite-kit';
import { routes } from '@twinfed/shared';
import { enrollTestSite, operator, startTestCoordinator, testPlan } from '../__tests__/harness';
import { dropPgSchema, freshSchema, openPgStore, pgTestUrl } from '../store/__tests__/pg';
import { run } from './__tests__/harness';

const schemas: string[] = [];
afterAll(async () => {
  for (const s of schemas) await dropPgSchema(s);
});

/** A stopped SQLite consortium: two sites and a federation; its data dir. */
async function consortium(): Promise<string> {
  const c = await startTestCoordinator({ store: 'sqlite' });
  try {
    await enrollTestSite(c, 'Alpha');
    await enrollTestSite(c, 'Beta');
    expect((await operator(c, 'POST', routes.federations, { plan: testPlan() })).status).toBe(201);
  } finally {
    await c.close();
  }
  return c.dataDir;
}

/** The target URL with a password the output must never show. */
function target(): { url: string; schema: string } {
  const schema = freshSchema('tf_copycli');
  schemas.push(schema);
  const url = new URL(pgTestUrl());
  url.password = 'pw-never-printed';
  url.searchParams.set('schema', schema);
  return { url: url.toString(), schema };
}

test('copies, verifies the trail on both sides, names the next step; the password is never printed', async () => {
  const dataDir = await consortium();
  const { url, schema } = target();
  const r = await run(['--data-dir', dataDir, 'coordinator', 'copy-store', '--to', url]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^\s*sites:\s+2$/m);
  expect(r.stdout).toMatch(/^\s*federations:\s+1$/m);
  expect(r.stdout).toMatch(/Audit trail intact on PostgreSQL: \d+ entries, 1 signed heads/);
  expect(r.stdout).toMatch(/Next: start every replica with --store/);
  expect(r.stdout + r.stderr).not.toContain('pw-never-printed');
  const store = await openPgStore(schema);
  try {
    expect((await store.listSites()).map((s) => s.name).sort()).toEqual(['Alpha', 'Beta']);
  } finally {
    await store.close();
  }
}, 60_000);

test('refuses a target that is not PostgreSQL, and a source whose audit trail does not verify (nothing copied)', async () => {
  const dataDir = await consortium();
  const notPg = await run(['--data-dir', dataDir, 'coordinator', 'copy-store', '--to', path.join(dataDir, 'x.db')]);
  expect(notPg.code).not.toBe(0);
  expect(notPg.stderr).toMatch(/--to must be a postgres:\/\/ URL/);

  const db = new Database(path.join(dataDir, 'coordinator.db'));
  db.exec('DROP TRIGGER IF EXISTS audit_log_append_only_update');
  db.exec("UPDATE audit_log SET actor = 'operator:someone-else' WHERE seq = 2");
  db.close();
  const { url, schema } = target();
  const tampered = await run(['--data-dir', dataDir, 'coordinator', 'copy-store', '--to', url]);
  expect(tampered.code).not.toBe(0);
  expect(tampered.stderr).toMatch(/AUDIT_CHAIN_INVALID/);
  expect(tampered.stderr).toMatch(/nothing was copied/);
  const store = await openPgStore(schema);
  try {
    expect(await store.listSites()).toEqual([]);
  } finally {
    await store.close();
  }
}, 60_000);
