/** Editing, deleting, reordering or re-hashing rows of the SQLite audit chain, or forging a head, is detected. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Database } from '@twinfed/sqlite-kit';
import { auditEntryHash, generateIdentity, signAuditHead } from '@twinfed/shared';
import { verifyAuditDatabase } from '../../audit/verify';
import { bytes, seedFederation, t, version } from '../__tests__/contract/fixtures';
import { MIGRATIONS } from '../migrations';
import { SqliteStore } from '../sqlite-store';

const key = generateIdentity();
let dir: string;
let file: string;

/** Six entries; version publishes at entries 3 and 6 sign the head. */
async function seed(): Promise<void> {
  const store = await SqliteStore.open({ path: file });
  const sign = (h: { seq: number; headHash: string; at: string }) => signAuditHead(h, key.sign.secretKey);
  await seedFederation(store, 'fed-1', 0);
  await store.appendAudit({
    at: t(1),
    actor: 'operator:ops',
    action: 'token.create',
    subject: 'tok-1',
    detail: { role: 'researcher' },
  });
  await store.appendAudit({
    at: t(2),
    actor: 'operator:ops',
    action: 'site.invite',
    subject: 'inv-1',
    detail: { siteName: 'A' },
  });
  await store.publishVersion({
    version: version('v0', 'fed-1', 0),
    weights: bytes(8),
    audit: { at: t(3), actor: 'system', action: 'version.publish', subject: 'v0', detail: {} },
    signAuditHead: sign,
  });
  await store.appendAudit({
    at: t(4),
    actor: 'site:site-a',
    action: 'site.enroll',
    subject: 'site-a',
    detail: { name: 'A' },
  });
  await store.appendAudit({ at: t(5), actor: 'operator:ops', action: 'site.revoke', subject: 'site-b', detail: {} });
  await store.publishVersion({
    version: version('v1', 'fed-1', 1, 'v0'),
    weights: bytes(8),
    audit: { at: t(6), actor: 'system', action: 'version.publish', subject: 'v1', detail: {} },
    signAuditHead: sign,
  });
  await store.close();
}

/** Runs SQL as someone holding the file would: the append-only triggers dropped first. */
function tamper(sql: (db: Database.Database) => void): void {
  const db = new Database(file);
  for (const name of [
    'audit_log_append_only_update',
    'audit_log_append_only_delete',
    'audit_heads_append_only_update',
    'audit_heads_append_only_delete',
  ])
    db.exec(`DROP TRIGGER IF EXISTS ${name}`);
  sql(db);
  db.close();
}

/** Recomputes every hash from `fromSeq` on, as a careful attacker would after an edit. */
function rehash(db: Database.Database): void {
  const rows = db
    .prepare('SELECT seq, at, actor, action, subject, detail, prev_hash AS prevHash, hash FROM audit_log ORDER BY seq')
    .all() as Array<{
    seq: number;
    at: string;
    actor: string;
    action: string;
    subject: string;
    detail: string;
    prevHash: string;
    hash: string;
  }>;
  let prev = '0'.repeat(64);
  for (const r of rows) {
    const hash = auditEntryHash({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown>, prevHash: prev });
    db.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?').run(prev, hash, r.seq);
    prev = hash;
  }
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-audit-'));
  file = path.join(dir, 'coordinator.db');
  await seed();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('audit chain in the SQLite file', () => {
  test('an untouched file verifies: six entries, two signed heads', async () => {
    expect(await verifyAuditDatabase(file, key.sign.publicKey)).toMatchObject({
      ok: true,
      entries: 6,
      heads: 2,
      firstBad: null,
      badHead: null,
      lastSignedHead: { seq: 6 },
    });
  });

  test('the coordinator itself cannot update or delete an entry (append-only triggers)', () => {
    const db = new Database(file);
    expect(() => db.prepare("UPDATE audit_log SET actor = 'x' WHERE seq = 2").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log WHERE seq = 6').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_heads').run()).toThrow(/append-only/);
    db.close();
  });

  test('an edited entry is named', async () => {
    tamper((db) => db.prepare(`UPDATE audit_log SET detail = '{"role":"operator"}' WHERE seq = 1`).run());
    const report = await verifyAuditDatabase(file, key.sign.publicKey);
    expect(report.ok).toBe(false);
    expect(report.firstBad).toMatchObject({ seq: 1, reason: expect.stringMatching(/changed/) });
  });

  test('a deleted entry is named (the one after the gap)', async () => {
    tamper((db) => db.prepare('DELETE FROM audit_log WHERE seq = 4').run());
    expect((await verifyAuditDatabase(file, key.sign.publicKey)).firstBad).toMatchObject({
      seq: 5,
      reason: expect.stringMatching(/missing/),
    });
  });

  test('a deleted tail is named; cutting entries after the last signed head together with the counter is the limit', async () => {
    tamper((db) => db.prepare('DELETE FROM audit_log WHERE seq >= 5').run());
    expect((await verifyAuditDatabase(file, key.sign.publicKey)).firstBad).toMatchObject({ seq: 5 });
    tamper((db) => {
      db.prepare('DELETE FROM audit_heads WHERE seq = 6').run();
      db.prepare("UPDATE sqlite_sequence SET seq = 4 WHERE name = 'audit_log'").run();
      db.prepare('DELETE FROM audit_log WHERE seq = 4').run();
      db.prepare("UPDATE sqlite_sequence SET seq = 3 WHERE name = 'audit_log'").run();
    });
    // Entries after the last signed head can be cut by someone who also fixes the counter: the heads bound the loss.
    expect(await verifyAuditDatabase(file, key.sign.publicKey)).toMatchObject({
      ok: true,
      entries: 3,
      lastSignedHead: { seq: 3 },
    });
  });

  test('two reordered entries are named', async () => {
    tamper((db) => {
      db.prepare('UPDATE audit_log SET seq = 100 WHERE seq = 4').run();
      db.prepare('UPDATE audit_log SET seq = 4 WHERE seq = 5').run();
      db.prepare('UPDATE audit_log SET seq = 5 WHERE seq = 100').run();
    });
    expect((await verifyAuditDatabase(file, key.sign.publicKey)).firstBad).toMatchObject({ seq: 4 });
  });

  test('an edit with every later hash recomputed is caught by the signed head it no longer matches', async () => {
    tamper((db) => {
      db.prepare("UPDATE audit_log SET subject = 'site-c' WHERE seq = 5").run();
      rehash(db);
    });
    const report = await verifyAuditDatabase(file, key.sign.publicKey);
    expect(report.ok).toBe(false);
    expect(report.badHead).toMatchObject({ seq: 6 });
    expect(report.firstBad).toMatchObject({ seq: 4, reason: expect.stringMatching(/between seq 4 and 6/) });
  });

  test('a head whose signature does not verify is detected (forged head or another key)', async () => {
    tamper((db) => db.prepare('UPDATE audit_heads SET at = ? WHERE seq = 3').run(t(99)));
    expect((await verifyAuditDatabase(file, key.sign.publicKey)).badHead).toMatchObject({
      seq: 3,
      reason: expect.stringMatching(/signature/),
    });
    expect(
      await verifyAuditDatabase(path.join(dir, 'none.db'), key.sign.publicKey).catch((e: { code: string }) => e.code),
    ).toBe('NOT_FOUND');
  });

  test('verification opens the file read-only (the file is unchanged)', async () => {
    const before = fs.readFileSync(file);
    await verifyAuditDatabase(file, key.sign.publicKey);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });
});

describe('audit rows written before the chain existed', () => {
  test('are chained once when the store opens after migration 5', async () => {
    const legacy = path.join(dir, 'legacy.db');
    const db = new Database(legacy);
    db.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    for (const m of MIGRATIONS.filter((x) => x.version < 5)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, t(0));
    }
    for (let i = 1; i <= 3; i++)
      db.prepare('INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)').run(
        t(i),
        'system',
        'token.create',
        `t${i}`,
        '{}',
      );
    db.close();
    const store = await SqliteStore.open({ path: legacy });
    await store.appendAudit({ at: t(9), actor: 'system', action: 'a', subject: 'after', detail: {} });
    await store.close();
    expect(await verifyAuditDatabase(legacy, key.sign.publicKey)).toMatchObject({ ok: true, entries: 4 });
  });
});
