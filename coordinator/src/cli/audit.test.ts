/** `twinfed audit verify|list` against a real coordinator, and forensically on its database file. */
import path from 'node:path';
import { Database } from '@twinfed/sqlite-kit';
import { generateIdentity, toB64 } from '@twinfed/shared';
import { enrollTestSite, operator, startTestCoordinator, testPlan } from '../__tests__/harness';
import { run } from './__tests__/harness';

type Coord = Awaited<ReturnType<typeof startTestCoordinator>>;

/** Edits the database as someone holding the file would (the append-only triggers dropped first). */
function tamper(file: string, sql: string): void {
  const db = new Database(file);
  db.exec(
    'DROP TRIGGER IF EXISTS audit_log_append_only_update; DROP TRIGGER IF EXISTS audit_log_append_only_delete; DROP TRIGGER IF EXISTS audit_heads_append_only_update',
  );
  db.exec(sql);
  db.close();
}

describe('twinfed audit', () => {
  let c: Coord;
  let dbFile: string;
  const op = (...args: string[]) => run(['--url', c.url, '--token', c.operatorToken, ...args]);

  beforeEach(async () => {
    c = await startTestCoordinator({ store: 'sqlite' });
    dbFile = path.join(c.dataDir, 'coordinator.db');
    await enrollTestSite(c, 'Alpha');
    await enrollTestSite(c, 'Beta');
    await operator(c, 'POST', '/v1/federations', { plan: testPlan() });
  });
  afterEach(async () => c.close());

  test('verify over the API: intact, exit 0; list pages oldest first with a hint for the next page', async () => {
    const ok = await op('audit', 'verify');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/INTACT/);
    expect(ok.stdout).toMatch(/signed heads:\s+1/);
    const json = await op('--json', 'audit', 'list', '--limit', '2');
    const page = JSON.parse(json.stdout) as { entries: Array<{ seq: number; action: string }>; next: number };
    expect(page.entries.map((e) => e.seq)).toEqual([1, 2]);
    expect(page.next).toBe(2);
    const text = await op('audit', 'list', '--after', '2', '--limit', '3');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^SEQ\s+AT\s+ACTOR\s+ACTION\s+SUBJECT\s+DETAIL/m);
    expect(text.stdout).toMatch(/^3\s/m);
    expect(text.stdout).toMatch(/More: twinfed audit list --after 5 --limit 3/);
    expect((await op('audit', 'list', '--limit', '0')).code).not.toBe(0);
  });

  test('verify over the API names the first edited entry and exits non-zero', async () => {
    tamper(dbFile, "UPDATE audit_log SET actor = 'operator:someone-else' WHERE seq = 2");
    const bad = await op('audit', 'verify');
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toMatch(/NOT INTACT/);
    expect(bad.stdout).toMatch(/first bad entry:\s+seq 2:/);
    expect(bad.stderr).toMatch(/AUDIT_CHAIN_INVALID/);
  });

  test('--db verifies the file offline with the key from the data dir; deleting or reordering a row is named', async () => {
    await c.close();
    const dataDir = ['--data-dir', c.dataDir];
    const ok = await run([...dataDir, 'audit', 'verify', '--db', dbFile]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/INTACT/);
    expect((await run([...dataDir, '--json', 'audit', 'list', '--db', dbFile])).code).toBe(0);

    tamper(dbFile, 'DELETE FROM audit_log WHERE seq = 3');
    const deleted = await run([...dataDir, 'audit', 'verify', '--db', dbFile]);
    expect(deleted.code).not.toBe(0);
    expect(deleted.stdout).toMatch(/first bad entry:\s+seq 4: entries 3…3 are missing/);
  });

  test('--db with reordered rows, and with another coordinator key (heads do not verify)', async () => {
    await c.close();
    tamper(
      dbFile,
      'UPDATE audit_log SET seq = 1000 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = 1000',
    );
    const reordered = await run(['--data-dir', c.dataDir, 'audit', 'verify', '--db', dbFile]);
    expect(reordered.code).not.toBe(0);
    expect(reordered.stdout).toMatch(/first bad entry:\s+seq 2:/);
  });

  test('--db with a public key that did not sign the heads reports the bad head', async () => {
    await c.close();
    const other = toB64(generateIdentity().sign.publicKey);
    const res = await run(['audit', 'verify', '--db', dbFile, '--public-key', other]);
    expect(res.code).not.toBe(0);
    expect(res.stdout).toMatch(/bad signed head:\s+seq \d+: the head signature does not verify/);
    const missing = await run(['audit', 'verify', '--db', path.join(c.dataDir, 'nope.db'), '--public-key', other]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/NOT_FOUND/);
  });
});
