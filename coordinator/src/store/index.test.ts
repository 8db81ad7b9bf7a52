import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryStore, openStore, SqliteStore } from './index';

describe('openStore', () => {
  test('opens a memory store', async () => {
    const store = await openStore({ kind: 'memory' });
    expect(store).toBeInstanceOf(MemoryStore);
    expect(await store.health()).toBe(true);
    await store.close();
  });

  test('opens a sqlite store at a path and requires one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-open-'));
    try {
      const store = await openStore({ kind: 'sqlite', path: path.join(dir, 'c.db'), busyTimeoutMs: 100 });
      expect(store).toBeInstanceOf(SqliteStore);
      expect(await store.health()).toBe(true);
      await store.close();
      await expect(openStore({ kind: 'sqlite' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
