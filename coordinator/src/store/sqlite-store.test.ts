import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Database } from '@twinfed/sqlite-kit';
import { describeStoreContract } from './__tests__/contract';
import { seedFederation, site, t, update } from './__tests__/contract/fixtures';
import { MIGRATIONS } from './migrations';
import { probe } from './sqlite/audit';
import { SqlContext } from './sqlite/context';
import { openDatabase, runMigrations } from './sqlite/db';
import { SqliteStore } from './sqlite-store';
import type { Store } from './types';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-store-'));
}

describeStoreContract('sqlite', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'coordinator.db');
  let current = await SqliteStore.open({ path: file });
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await SqliteStore.open({ path: file });
      return current;
    },
    cleanup: async () => {
      await current.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteStore on disk', () => {
  let dir: string;
  const open: Store[] = [];
  const openAt = async (file: string) => {
    const s = await SqliteStore.open({ path: file });
    open.push(s);
    return s;
  };
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('creates the database (and its WAL) with mode 0600 in a new directory', async () => {
    const file = path.join(dir, 'nested', 'data', 'coordinator.db');
    const store = await openAt(file);
    await store.appendAudit({ at: t(0), actor: 'a', action: 'b', subject: 'c', detail: {} });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  test('tightens the mode of an existing file to 0600', async () => {
    const file = path.join(dir, 'coordinator.db');
    fs.writeFileSync(file, '', { mode: 0o644 });
    await openAt(file);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  test('sets WAL, synchronous=FULL, foreign keys and a busy timeout', async () => {
    const db = openDatabase({ path: path.join(dir, 'p.db'), busyTimeoutMs: 1234 });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
    } finally {
      db.close();
    }
  });

  test('runs each migration once: reopening applies nothing', async () => {
    const file = path.join(dir, 'm.db');
    await (await openAt(file)).close();
    const raw = new Database(file);
    const rows = () => raw.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
    const first = rows();
    expect(first).toEqual(MIGRATIONS.map((m) => expect.objectContaining({ version: m.version, name: m.name })));
    expect(runMigrations(raw, MIGRATIONS)).toEqual([]);
    raw.close();
    await (await openAt(file)).close();
    const again = new Database(file);
    expect(again.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all()).toEqual(
      first,
    );
    again.close();
  });

  test("a round's secure-aggregation messages of one kind are counted and listed from an index of that kind alone", async () => {
    const file = path.join(dir, 'k.db');
    await (await openAt(file)).close();
    const raw = new Database(file);
    try {
      // The primary key (federation, round, site, kind) walks the round's messages of every kind for each count, at
      // every state read, signature and reveal (2.5 % of the coordinator's time at 500 secure sites).
      const plan = (sql: string) =>
        (raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('f', 1, 'reveal') as Array<{ detail: string }>)
          .map((r) => r.detail)
          .join('; ');
      const where = 'FROM secagg_messages WHERE federation_id = ? AND round = ? AND kind = ?';
      expect(plan(`SELECT COUNT(*) ${where}`)).toMatch(
        /USING COVERING INDEX \S+ \(federation_id=\? AND round=\? AND kind=\?\)/,
      );
      expect(plan(`SELECT site_id ${where} ORDER BY site_id`)).toMatch(
        /USING COVERING INDEX \S+ \(federation_id=\? AND round=\? AND kind=\?\)$/,
      );
    } finally {
      raw.close();
    }
  });

  test("a round's update summaries are listed from an index, not through the envelopes' pages", async () => {
    const file = path.join(dir, 'u.db');
    await (await openAt(file)).close();
    const raw = new Database(file);
    try {
      // The envelope comes before the summary's last columns in the row: read from the table, every envelope's
      // overflow pages were walked (≈ 40 ms for a secure round's 500 masked updates of 10k parameters).
      const detail = (
        raw
          .prepare(
            'EXPLAIN QUERY PLAN SELECT federation_id, round, site_id, digest, num_examples, metrics, received_at FROM updates WHERE federation_id = ? AND round = ? ORDER BY site_id',
          )
          .all('f', 1) as Array<{ detail: string }>
      )
        .map((r) => r.detail)
        .join('; ');
      expect(detail).toMatch(/^SEARCH updates USING COVERING INDEX \S+ \(federation_id=\? AND round=\?\)$/);
    } finally {
      raw.close();
    }
  });

  test('applies only new migrations, in order, and refuses a schema newer than the code', () => {
    const db = new Database(path.join(dir, 'n.db'));
    try {
      const m1 = { version: 1, name: 'one', sql: 'CREATE TABLE log (v INTEGER)' };
      const m2 = { version: 2, name: 'two', sql: 'INSERT INTO log VALUES (2)' };
      expect(runMigrations(db, [m1])).toEqual([1]);
      expect(runMigrations(db, [m2, m1])).toEqual([2]);
      expect(runMigrations(db, [m1, m2])).toEqual([]);
      expect(db.prepare('SELECT COUNT(*) FROM log').pluck().get()).toBe(1);
      expect(() => runMigrations(db, [m1])).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    } finally {
      db.close();
    }
  });

  test('an older database where two sites share keys migrates: the later one is revoked, the keys become unique', () => {
    const db = new Database(path.join(dir, 'dup.db'));
    try {
      runMigrations(
        db,
        MIGRATIONS.filter((m) => m.version <= 4),
      );
      const insert = db.prepare(
        'INSERT INTO sites (id, name, sign_public_key, box_public_key, enrolled_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)',
      );
      insert.run('site-owner', 'Owner', 'S1', 'B1', t(1), null);
      insert.run('site-copy', 'Copy', 'S1', 'B9', t(2), null); // enrolled with the owner's signing key
      insert.run('site-copy-box', 'Copy box', 'S8', 'B1', t(3), null); // with the owner's box key
      insert.run('site-other', 'Other', 'S2', 'B2', t(4), null);
      runMigrations(db, MIGRATIONS);
      const revoked = db.prepare('SELECT id FROM sites WHERE revoked_at IS NOT NULL ORDER BY id').pluck().all();
      expect(revoked).toEqual(['site-copy', 'site-copy-box']);
      expect(() => insert.run('site-late', 'Late', 'S2', 'B7', t(5), null)).toThrow(
        expect.objectContaining({ code: 'SQLITE_CONSTRAINT_UNIQUE' }),
      );
      expect(() => insert.run('site-late', 'Late', 'S7', 'B2', t(5), null)).toThrow(
        expect.objectContaining({ code: 'SQLITE_CONSTRAINT_UNIQUE' }),
      );
    } finally {
      db.close();
    }
  });

  test('an older database migrates to studies: every federation and researcher token joins the default study', async () => {
    const file = path.join(dir, 'studies.db');
    const db = new Database(file);
    runMigrations(
      db,
      MIGRATIONS.filter((m) => m.version <= 7),
    );
    db.prepare(
      `INSERT INTO federations (id, name, plan, state, created_at, updated_at, current_round) VALUES (?, ?, '{}', 'running', ?, ?, 0)`,
    ).run('fed-old', 'old', t(1), t(1));
    const token = db.prepare('INSERT INTO api_tokens (id, name, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?)');
    token.run('tok-r', 'reader', 'researcher', 'hr', t(2));
    token.run('tok-o', 'ops', 'operator', 'ho', t(3));
    db.close();
    const store = await openAt(file);
    expect((await store.getFederation('fed-old'))?.studyId).toBe('default');
    expect((await store.listApiTokens()).map((x) => [x.id, x.studies])).toEqual([
      ['tok-r', ['default']],
      ['tok-o', []],
    ]);
    const raw = new Database(file);
    try {
      // The column is nullable (SQLite cannot add it NOT NULL with a foreign key); triggers require it.
      expect(() => raw.prepare(`UPDATE federations SET study_id = NULL WHERE id = 'fed-old'`).run()).toThrow(
        /study_id is required/,
      );
      expect(() =>
        raw
          .prepare(
            `INSERT INTO federations (id, name, plan, state, created_at, updated_at, current_round) VALUES ('fed-n', 'n', '{}', 'running', ?, ?, 0)`,
          )
          .run(t(4), t(4)),
      ).toThrow(/study_id is required/);
    } finally {
      raw.close();
    }
  });

  test('rolls back a failing migration entirely', () => {
    const db = new Database(path.join(dir, 'r.db'));
    try {
      const good = { version: 1, name: 'good', sql: 'CREATE TABLE a (v INTEGER)' };
      const bad = { version: 2, name: 'bad', sql: 'CREATE TABLE b (v INTEGER); NOT SQL' };
      expect(() => runMigrations(db, [good, bad])).toThrow();
      expect(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('a', 'b')").pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });

  test('two connections to one file: a token enrolls once, a write is visible as soon as it resolves', async () => {
    const file = path.join(dir, 'shared.db');
    const a = await openAt(file);
    const b = await openAt(file);
    await a.createInvitation({ id: 'i', siteName: 'x', tokenHash: 'th', createdAt: t(0), expiresAt: t(60) });
    const results = await Promise.all([
      a.enrollSite({ tokenHash: 'th', now: t(1), site: site('site-a') }),
      b.enrollSite({ tokenHash: 'th', now: t(1), site: site('site-b') }),
    ]);
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect(await a.listSites()).toEqual(await b.listSites());
    await seedFederation(a, 'fed-1', 1);
    expect((await b.putUpdate(update('fed-1', 1, 'site-a'))).status).toBe('inserted');
    expect((await a.putUpdate(update('fed-1', 1, 'site-a'))).status).toBe('duplicate');
  });

  test('health turns false when the file can no longer be written', async () => {
    const file = path.join(dir, 'ro.db');
    await (await openAt(file)).close();
    const ro = new Database(file, { readonly: true });
    expect(probe(new SqlContext(ro))).toBe(false);
    ro.close();
  });
});
