import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../sqlite-store';
import { SqlContext } from './context';
import { openDatabase } from './db';
import { WriteBatch } from './write-batch';

describe('WriteBatch (group commit)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-batch-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('writes queued in one turn share one transaction, each promise gets its own result', async () => {
    const c = new SqlContext(openDatabase({ path: path.join(dir, 'a.db') }));
    c.db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    let transactions = 0;
    const tx = c.tx.bind(c);
    c.tx = (fn) => {
      transactions++;
      return tx(fn);
    };
    const batch = new WriteBatch(() => c);
    const insert = (k: string) => batch.run((ctx) => ctx.stmt('INSERT OR IGNORE INTO t (k) VALUES (?)').run(k).changes);
    const results = await Promise.all(['a', 'b', 'a', 'c'].map(insert));
    expect(results).toEqual([1, 1, 0, 1]);
    expect(transactions).toBe(1);
    const failing = batch.run(() => {
      throw new Error('bad statement');
    });
    const fine = insert('d');
    await expect(failing).rejects.toThrow('bad statement');
    expect(await fine).toBe(1);
    expect(transactions).toBe(2);
    c.db.close();
  });

  test('the store: concurrent nonces are durable once resolved, a replay in the same burst is refused', async () => {
    const file = path.join(dir, 'store.db');
    const store = await SqliteStore.open({ path: file });
    const at = new Date().toISOString();
    const input = (nonce: string) => ({
      siteId: 'site-a',
      nonce,
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      now: at,
    });
    const fresh = await Promise.all(['n1', 'n2', 'n1', 'n3'].map((n) => store.useNonce(input(n))));
    expect(fresh).toEqual([true, true, false, true]);
    const pending = store.useNonce(input('n4'));
    await store.close(); // flushes what is queued before closing
    expect(await pending).toBe(true);
    await expect(store.useNonce(input('n5'))).rejects.toMatchObject({ code: 'NOT_READY' });
    const again = await SqliteStore.open({ path: file });
    expect(await again.useNonce(input('n4'))).toBe(false);
    expect(await again.useNonce(input('n2'))).toBe(false);
    await again.close();
  });
});
