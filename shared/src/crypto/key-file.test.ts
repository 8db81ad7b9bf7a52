import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity } from './identity';
import { identityExists, identityPath, loadIdentity, loadOrCreateIdentity, saveIdentity } from './key-file';

const posix = process.platform !== 'win32';
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'twinfed-keys-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const configInvalid = expect.objectContaining({ code: 'CONFIG_INVALID' });

describe('key files', () => {
  test('saves with mode 0600 in a 0700 directory and loads the same identity', () => {
    const dir = join(root, 'keys');
    const identity = generateIdentity();
    const path = saveIdentity({ dir, identity, name: 'coordinator' });
    expect(path).toBe(identityPath({ dir, name: 'coordinator' }));
    if (posix) {
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
    }
    const loaded = loadIdentity({ dir, name: 'coordinator' });
    expect(loaded.sign.secretKey).toEqual(identity.sign.secretKey);
    expect(loaded.sign.publicKey).toEqual(identity.sign.publicKey);
    expect(loaded.box.secretKey).toEqual(identity.box.secretKey);
    expect(loaded.box.publicKey).toEqual(identity.box.publicKey);
    expect(readdirSync(dir)).toEqual(['coordinator.key.json']); // no temp file left behind
  });

  test('refuses a group/world-readable file (0644, 0640)', () => {
    const path = saveIdentity({ dir: root, identity: generateIdentity(), name: 'site' });
    chmodSync(path, 0o644);
    expect(() => loadIdentity({ dir: root, name: 'site' })).toThrow(configInvalid);
    chmodSync(path, 0o640);
    expect(() => loadIdentity({ dir: root, name: 'site' })).toThrow(configInvalid);
    chmodSync(path, 0o600);
    expect(() => loadIdentity({ dir: root, name: 'site' })).not.toThrow();
  });

  test('overwrites atomically and keeps mode 0600', () => {
    const a = generateIdentity();
    const b = generateIdentity();
    saveIdentity({ dir: root, identity: a, name: 'x' });
    const path = saveIdentity({ dir: root, identity: b, name: 'x' });
    expect(loadIdentity({ dir: root, name: 'x' }).sign.publicKey).toEqual(b.sign.publicKey);
    if (posix) expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  test('rejects missing, malformed and inconsistent files', () => {
    expect(() => loadIdentity({ dir: root, name: 'none' })).toThrow(configInvalid);
    const path = saveIdentity({ dir: root, identity: generateIdentity(), name: 'k' });
    const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
    const swapped = { ...json, boxPublicKey: Buffer.from(generateIdentity().box.publicKey).toString('base64') };
    writeFileSync(path, JSON.stringify(swapped), { mode: 0o600 });
    expect(() => loadIdentity({ dir: root, name: 'k' })).toThrow(configInvalid);
    writeFileSync(path, '{not json', { mode: 0o600 });
    expect(() => loadIdentity({ dir: root, name: 'k' })).toThrow(configInvalid);
    writeFileSync(path, JSON.stringify({ ...json, extra: 1 }), { mode: 0o600 });
    expect(() => loadIdentity({ dir: root, name: 'k' })).toThrow(configInvalid);
  });

  test('rejects names that could escape the directory', () => {
    expect(() => saveIdentity({ dir: root, identity: generateIdentity(), name: '../evil' })).toThrow(configInvalid);
    expect(() => loadIdentity({ dir: root, name: '' })).toThrow(configInvalid);
  });

  test('loadOrCreateIdentity creates once, then loads', () => {
    const dir = join(root, 'data');
    expect(identityExists({ dir, name: 'coordinator' })).toBe(false);
    const first = loadOrCreateIdentity({ dir, name: 'coordinator' });
    expect(first.created).toBe(true);
    const second = loadOrCreateIdentity({ dir, name: 'coordinator' });
    expect(second.created).toBe(false);
    expect(second.identity.sign.publicKey).toEqual(first.identity.sign.publicKey);
  });
});
