import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Database } from '@twinfed/sqlite-kit';
import { describeTwinStoreContract } from './__tests__/contract';
import { hr, patient, SECRET } from './__tests__/harness';
import { openTwinDatabase } from './sqlite/db';
import { TWIN_MIGRATIONS } from './sqlite/migrations';
import { SqliteTwinStore } from './sqlite-store';
import { openTwinStore } from './store';

const tempDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-twins-'));

describeTwinStoreContract('sqlite', async ({ secret, clock }) => {
  const dir = tempDir();
  const file = path.join(dir, 'twins.db');
  let current = await SqliteTwinStore.open({ path: file, secret, now: clock.now });
  return {
    store: current,
    clock,
    reopen: async () => {
      await current.close();
      current = await SqliteTwinStore.open({ path: file, secret, now: clock.now });
      return current;
    },
    cleanup: async () => {
      await current.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteTwinStore on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('creates the database and its WAL with mode 0600 in a 0700 directory, with WAL and synchronous FULL', async () => {
    const file = path.join(dir, 'nested', 'twins.db');
    const store = await SqliteTwinStore.open({ path: file, secret: SECRET });
    await store.apply([patient('MRN-1')]);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    await store.close();
    const db = openTwinDatabase({ path: file });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    db.close();
  });

  test('records applied migrations once and refuses a schema newer than the code', () => {
    const file = path.join(dir, 'twins.db');
    openTwinDatabase({ path: file }).close();
    openTwinDatabase({ path: file }).close();
    const raw = new Database(file);
    expect(raw.prepare('SELECT version FROM schema_migrations').pluck().all()).toEqual(
      TWIN_MIGRATIONS.map((m) => m.version),
    );
    raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(999, 'future', 'x');
    raw.close();
    expect(() => openTwinDatabase({ path: file })).toThrow(/newer/);
  });

  test('rolls back a whole batch when the database fails mid-transaction', async () => {
    const file = path.join(dir, 'twins.db');
    const store = await SqliteTwinStore.open({ path: file, secret: SECRET });
    await store.apply([patient('MRN-1')]);
    const raw = new Database(file);
    raw.exec(
      "CREATE TRIGGER boom BEFORE INSERT ON observations WHEN NEW.value > 1000 BEGIN SELECT RAISE(ABORT, 'boom'); END",
    );
    raw.close();
    // Not `rejects.toThrow`: better-sqlite3's native addon is loaded once per jest worker and keeps the
    // SqliteError class of the first test file that loaded it, so in a later file of the same worker the
    // rejection is an Error of another realm, which `rejects.toThrow` does not recognise as thrown.
    await expect(store.apply([hr('MRN-1', 'o1', 1000, 70), hr('MRN-1', 'o2', 2000, 5000)])).rejects.toMatchObject({
      code: 'SQLITE_CONSTRAINT_TRIGGER',
      message: 'boom',
    });
    expect((await store.counts()).observations).toBe(0);
    expect((await store.changedSince(0)).changes).toHaveLength(1);
    await store.close();
  });

  test('openTwinStore creates the site secret once and reopens the same pseudonyms', async () => {
    const first = await openTwinStore({ dataDir: dir });
    await first.apply([patient('MRN-1')]);
    const pid = first.pidFor('MRN-1');
    await first.close();
    const again = await openTwinStore({ dataDir: dir });
    expect(again.pidFor('MRN-1')).toBe(pid);
    expect(await again.listPids()).toEqual([pid]);
    await again.close();
    const memory = await openTwinStore({ dataDir: dir, kind: 'memory' });
    expect(memory.pidFor('MRN-1')).toBe(pid);
    await memory.close();
  });
});
