import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqlContext, openSqlite, runMigrations, type Migration } from './index';

const OWNER = { schema: 'test schema', app: 'test app' };
const m1: Migration = { version: 1, name: 'one', sql: 'CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT)' };
const m2: Migration = { version: 2, name: 'two', sql: 'CREATE TABLE b (id INTEGER PRIMARY KEY REFERENCES a(id))' };

describe('sqlite-kit', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-kit-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('opens a 0600 file durably (WAL, synchronous FULL, foreign keys) and applies migrations once, in order', () => {
    const file = path.join(dir, 'sub', 'x.db');
    const db = openSqlite({ path: file, busyTimeoutMs: 1234, migrations: [m2, m1], owner: OWNER });
    try {
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
      expect(runMigrations(db, [m1, m2], OWNER)).toEqual([]);
      expect(() => db.prepare('INSERT INTO b (id) VALUES (7)').run()).toThrow(/FOREIGN KEY/);
    } finally {
      db.close();
    }
  });

  test('refuses a database whose schema is newer than the code', () => {
    const file = path.join(dir, 'y.db');
    openSqlite({ path: file, migrations: [m1, m2], owner: OWNER }).close();
    expect(() => openSqlite({ path: file, migrations: [m1], owner: OWNER })).toThrow(
      'The test schema (v2) is newer than this test app (v1).',
    );
  });

  test('caches prepared statements and runs immediate transactions that roll back on error', () => {
    const c = new SqlContext(openSqlite({ path: ':memory:', migrations: [m1], owner: OWNER }));
    try {
      expect(c.stmt('SELECT 1')).toBe(c.stmt('SELECT 1'));
      expect(() =>
        c.tx(() => {
          c.stmt('INSERT INTO a (v) VALUES (?)').run('kept?');
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(c.stmt('SELECT COUNT(*) AS n FROM a').get()).toEqual({ n: 0 });
    } finally {
      c.db.close();
    }
  });
});
