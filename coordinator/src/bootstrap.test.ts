import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadOrCreateIdentity, silentLogger } from '@twinfed/shared';
import { loadConfig } from './config';
import { startCoordinator } from './main';
import { MemoryStore } from './store/memory-store';

function config(dataDir: string) {
  return loadConfig({}, { dataDir, port: 0, store: 'memory', logLevel: 'silent', maxAuthFailuresPerMinute: 0 });
}

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-replica-'));

describe('replicas sharing a store', () => {
  test('a replica with the same key files joins; one with other keys refuses to start and names both keys', async () => {
    const store = new MemoryStore();
    const first = tempDir();
    const a = await startCoordinator(config(first), { logger: silentLogger(), store });
    const second = tempDir();
    fs.copyFileSync(path.join(first, 'coordinator.key.json'), path.join(second, 'coordinator.key.json'));
    const b = await startCoordinator(config(second), { logger: silentLogger(), store });
    expect(b.fingerprint).toBe(a.fingerprint);

    const stranger = tempDir();
    const refused = startCoordinator(config(stranger), { logger: silentLogger(), store });
    await expect(refused).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(refused).rejects.toThrow(`This store belongs to coordinator key ${a.fingerprint}`);
    await b.close();
    await a.close();
  });

  test('replicas starting at once on an empty store create one operator token between them', async () => {
    const store = new MemoryStore();
    const first = tempDir();
    const second = tempDir();
    loadOrCreateIdentity({ dir: first, name: 'coordinator' }); // the key files exist before either starts
    fs.copyFileSync(path.join(first, 'coordinator.key.json'), path.join(second, 'coordinator.key.json'));
    const [a, b] = await Promise.all([
      startCoordinator(config(first), { logger: silentLogger(), store }),
      startCoordinator(config(second), { logger: silentLogger(), store }),
    ]);
    try {
      expect(await store.listApiTokens()).toHaveLength(1);
      const files = [first, second].filter((d) => fs.existsSync(path.join(d, 'operator.token')));
      expect(files).toHaveLength(1); // the replica that created the token holds it; the operator copies it
    } finally {
      await b.close();
      await a.close();
    }
  });
});
